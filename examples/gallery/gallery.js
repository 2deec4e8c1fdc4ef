// A front end on its own origin, in plain JavaScript: log in, list houses, show a house's photos with srcset,
// and upload photos straight to the private bucket (presigned POST) before the API takes them.
// Serve this folder on any origin listed in CORS_ALLOWED_ORIGINS; ?api= says where the API is.
"use strict";

const API = new URLSearchParams(location.search).get("api") || "http://127.0.0.1:8000";
const KINDS = {sale: "house_for_sale", rent: "house_for_rent"};
const PENDING_POLLS = 30; // variants pending: look again every 2 s, for a minute at most

const $ = (selector) => document.querySelector(selector);
let tokens = null; // {access, refresh}: kept in memory only
let current = null; // {kind, id}

function say(message, isError = false) {
  $("#status").textContent = message;
  $("#status").className = isError ? "error" : "";
}

// The API's error bodies: {"error": ...}, {"detail": ...} or {"<field>": ["..."]}.
function describe(body, status) {
  if (body && body.error) return body.error;
  if (body && body.detail) return body.detail;
  return body ? Object.entries(body).map(([field, problems]) => `${field}: ${[].concat(problems).join(" ")}`).join("; ")
    : `HTTP ${status}`;
}

async function call(path, {method = "GET", body, retried = false} = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (tokens) headers.Authorization = `Bearer ${tokens.access}`;
  const response = await fetch(`${API}${path}`, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  if (response.status === 401 && tokens && !retried) { // the access token lives 15 minutes
    await refreshTokens();
    return call(path, {method, body, retried: true});
  }
  const answer = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(describe(answer, response.status));
  return answer;
}

async function refreshTokens() {
  const refresh = tokens.refresh;
  tokens = null;
  tokens = await call("/api/token/refresh/", {method: "POST", body: {refresh}});
}

// srcset from the variants: while they are pending each one is the original (is_original), listed once.
function srcset(image) {
  const entries = new Map();
  for (const variant of Object.values(image.variants)) entries.set(variant.url, `${variant.url} ${variant.width}w`);
  return [...entries.values()].join(", ");
}

function picture(image, sizes) {
  const img = document.createElement("img");
  img.src = image.variants.thumbnail ? image.variants.thumbnail.url : image.secure_url;
  img.srcset = srcset(image);
  img.sizes = sizes;
  img.alt = image.caption || image.original_filename;
  img.loading = "lazy";
  return img;
}

async function showHouses() {
  const kind = $("#kind").value;
  const page = await call(`/api/houses-for-${kind}/?page_size=100`);
  const list = $("#houses");
  list.replaceChildren();
  for (const house of page.results) {
    const button = document.createElement("button");
    button.dataset.house = house.id;
    if (house.main_image) button.append(picture(house.main_image, "80px"));
    button.append(`${house.title} (${house.image_count} photos)`);
    button.addEventListener("click", () => showHouse(kind, house.id).catch((error) => say(error.message, true)));
    const item = document.createElement("li");
    item.append(button);
    list.append(item);
  }
  say(page.count === 1 ? "1 house" : `${page.count} houses`);
}

async function showHouse(kind, id, polls = 0) {
  current = {kind, id};
  const house = await call(`/api/houses-for-${kind}/${id}/`);
  $("#house").hidden = false;
  $("#house-title").textContent = house.title;
  const images = [...house.images].sort((a, b) => (b.is_main - a.is_main) || (a.order - b.order) || (a.id - b.id));
  const gallery = $("#gallery");
  gallery.replaceChildren();
  for (const image of images) {
    const figure = document.createElement("figure");
    figure.className = image.is_main ? "main" : "";
    figure.dataset.image = image.id;
    const caption = document.createElement("figcaption");
    caption.textContent = image.caption || image.original_filename;
    if (image.variants_status !== "ready") {
      const note = document.createElement("small");
      note.textContent = image.variants_status === "pending" ? " (smaller sizes on their way)" : " (full size only)";
      caption.append(note);
    }
    figure.append(picture(image, "(min-width: 60rem) 20rem, 100vw"), caption);
    gallery.append(figure);
  }
  const pending = images.some((image) => image.variants_status === "pending");
  if (pending && polls < PENDING_POLLS) {
    setTimeout(() => {
      if (current && current.kind === kind && current.id === id) showHouse(kind, id, polls + 1).catch(() => {});
    }, 2000);
  }
}

// The presigned POST: its fields, the file's Content-Type (the policy takes image/*), then the file, last.
function postToBucket(grant, file, progress) {
  const form = new FormData();
  for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
  form.append("Content-Type", file.type || "image/jpeg");
  form.append("file", file);
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest(); // fetch() cannot report an upload's progress
    request.open("POST", grant.url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = event.loaded / event.total;
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) return resolve();
      // S3 says why in XML: <Error><Code>EntityTooLarge</Code><Message>...</Message></Error>
      const message = request.responseXML && request.responseXML.querySelector("Message");
      reject(new Error(`S3 refused ${file.name}: ${message ? message.textContent : `HTTP ${request.status}`}`));
    });
    request.addEventListener("error", () => reject(new Error(`${file.name}: S3 could not be reached`)));
    request.send(form);
  });
}

async function upload(file) {
  const {kind, id} = current;
  const row = document.createElement("li");
  const progress = document.createElement("progress");
  progress.max = 1;
  progress.value = 0;
  row.append(`${file.name} `, progress);
  $("#uploads").append(row);
  const target = {content_type: KINDS[kind], object_id: id};
  const grant = await call("/api/property-images/upload_url/", {method: "POST", body: target});
  await postToBucket(grant, file, progress);
  progress.value = 1;
  const image = await call("/api/property-images/complete_upload/", {
    method: "POST",
    body: {...target, key: grant.key, filename: file.name},
  });
  row.dataset.image = image.id;
  row.append(" stored");
  return image;
}

$("#api").textContent = API;

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    tokens = null;
    tokens = await call("/api/token/", {method: "POST", body: {username: form.get("username"), password: form.get("password")}});
    $("#login").hidden = true;
    $("#app").hidden = false;
    await showHouses();
  } catch (error) {
    // A browser that refuses the answer (an origin the API does not allow) says only "Failed to fetch".
    say(`Could not log in: ${error.message}`, true);
  }
});

$("#kind").addEventListener("change", () => showHouses().catch((error) => say(error.message, true)));

$("#upload").addEventListener("submit", async (event) => {
  event.preventDefault();
  const files = [...$("#files").files];
  try {
    const stored = await Promise.all(files.map(upload));
    await Promise.all([showHouse(current.kind, current.id), showHouses()]);
    say(stored.length === 1 ? "1 photo stored" : `${stored.length} photos stored`);
    event.target.reset();
  } catch (error) {
    say(error.message, true);
  }
});
