// The page a share link opens (/shared/<token>/), for someone without an account: the house's public fields and its
// photos, each with its placeholder first, then its AVIF or WebP size (photos.js, as the gallery draws them), and a
// "Download all" link when the link offers the ZIP. Its one call is the link's API answer (data-api on <body>).
import {picture} from "../../gallery/photos.js";

const status = /** @type {HTMLElement} */ (document.getElementById("status"));

function say(message, isError = false) {
  status.textContent = message;
  status.className = isError ? "error" : "";
}

async function show() {
  const answer = await fetch(document.body.dataset.api, {headers: {Accept: "application/json"}});
  if (!answer.ok) {
    say(answer.status === 404 ? "This link does not exist, has expired or was revoked."
      : answer.status === 429 ? "Too many requests: try again in a minute." : `The photos could not be loaded (${answer.status}).`, true);
    return;
  }
  const shared = await answer.json();
  const house = shared.house;
  document.title = house.title;
  document.getElementById("title").textContent = house.title;
  const amount = house.kind === "house_for_sale" ? `${house.price}` : `${house.monthly_rent} a month`;
  const facts = [house.city, `${house.bedrooms} bedrooms`, `${house.bathrooms} bathrooms`, house.area && `${house.area} m²`, amount];
  document.getElementById("facts").textContent = facts.filter(Boolean).join(" · ");
  document.getElementById("description").textContent = house.description;
  const photos = document.getElementById("photos");
  photos.replaceChildren(...shared.images.map((image) => {
    const figure = document.createElement("figure");
    const caption = document.createElement("figcaption");
    caption.textContent = image.caption;
    figure.append(picture(image, "(min-width: 80rem) 25rem, (min-width: 40rem) 50vw, 100vw"), caption);
    return figure;
  }));
  const download = /** @type {HTMLAnchorElement} */ (document.getElementById("download"));
  if (shared.download_url) {
    download.href = shared.download_url;
    download.hidden = false;
  }
  say(shared.images.length === 1 ? "1 photo" : `${shared.images.length} photos`);
}

show().catch((error) => say(`The photos could not be loaded: ${error.message}`, true));
