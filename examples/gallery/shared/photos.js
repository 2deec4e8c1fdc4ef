// A photo as the pages show it: its placeholder painted at once, then its AVIF or WebP sizes in a <picture>. Used by
// the gallery (gallery.js) and by the page a share link opens, which the API serves: /static/gallery/photos.js.
// @ts-check
import {thumbHashToDataURL} from "./vendor/thumbhash.js";

/** @typedef {import("../api").components["schemas"]} Schemas */
/**
 * A gallery's image, a house's cover in a list, or a photo of a shared house.
 * @typedef {Schemas["PropertyImage"] | Schemas["CoverImage"] | Schemas["SharedImage"]} Photo
 */

/**
 * srcset of the variants' WebP copies (`url`) or AVIF ones (`avif_url`). While they are pending each one is the
 * original (is_original), listed once, and there is no AVIF srcset: the original is no AVIF.
 * @param {Photo} image
 * @param {"url" | "avif_url"} field
 */
export function srcset(image, field) {
  const entries = new Map();
  for (const variant of Object.values(image.variants)) {
    const url = variant[field];
    if (url && !(field === "avif_url" && variant.is_original)) entries.set(url, `${url} ${variant.width}w`);
  }
  return [...entries.values()].join(", ");
}

/**
 * Paint the photo's placeholder until it arrives: its average colour, and its ThumbHash drawn (a PNG of about 32 px,
 * stretched over the box). Both come in the image's JSON, so they show before any byte of the photo.
 * @param {HTMLImageElement} img
 * @param {Photo} image
 */
export function paintPlaceholder(img, image) {
  if (image.color) img.style.backgroundColor = image.color;
  if (!image.thumbhash) return;
  const hash = Uint8Array.from(atob(image.thumbhash), (character) => character.charCodeAt(0));
  img.style.backgroundImage = `url(${thumbHashToDataURL(hash)})`;
  img.style.backgroundSize = "cover";
  // A transparent PNG would show it through: gone once the photo is there.
  img.addEventListener("load", () => { img.style.backgroundImage = ""; }, {once: true});
}

/**
 * The photo as a <picture>: its AVIF sizes as a source first, its WebP sizes in the <img>, its placeholder painted.
 * @param {Photo} image
 * @param {string} sizes
 */
export function picture(image, sizes) {
  const frame = document.createElement("picture");
  const avif = srcset(image, "avif_url");
  if (avif) { // first: a browser that decodes AVIF takes it (about 0.65x the bytes), any other the WebP <img>
    const source = document.createElement("source");
    source.type = "image/avif";
    source.srcset = avif;
    source.sizes = sizes;
    frame.append(source);
  }
  const img = document.createElement("img");
  paintPlaceholder(img, image);
  img.src = image.variants.thumbnail?.url || image.secure_url;
  img.srcset = srcset(image, "url");
  img.sizes = sizes;
  // The long alt text first; a photo with neither its file name, where the answer has one.
  img.alt = image.description || image.caption || ("original_filename" in image ? image.original_filename : "");
  img.loading = "lazy";
  frame.append(img);
  return frame;
}
