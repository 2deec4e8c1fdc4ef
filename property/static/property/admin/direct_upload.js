"use strict";
// Direct uploads in the house admin: each photo goes from the browser straight to the private bucket
// through a presigned POST (the API's upload_url), then the server fetches it, checks and re-encodes it, and
// stores it with its size variants like any other upload (the API's complete_upload). Both are called with the
// admin's session and its CSRF token. Nothing here is trusted: the bucket enforces the size limit and
// image/* and the server checks the pixels; the checks below only give a clearer message sooner.
(function () {
    function csrfToken(widget) {
        const field = widget.closest("form").querySelector("[name=csrfmiddlewaretoken]");
        return field ? field.value : "";
    }

    async function postJson(url, token, body) {
        const response = await fetch(url, {
            method: "POST",
            credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": token},
            body: JSON.stringify(body || {}),
        });
        let answer = {};
        try {
            answer = await response.json();
        } catch (error) {
            answer = {};
        }
        if (!response.ok) {
            // The API says why as {"error": ...}, {"detail": ...} or {"<field>": ["..."]}.
            const fieldError = Object.values(answer).flat().find((reason) => typeof reason === "string");
            throw new Error(answer.error || answer.detail || fieldError || `the server answered ${response.status}`);
        }
        return answer;
    }

    async function sendOne(widget, file, report) {
        const token = csrfToken(widget);
        const house = {content_type: widget.dataset.contentType, object_id: Number(widget.dataset.objectId)};
        // Some systems give a phone's HEIC no type at all: its name says what it is (the server reads the content).
        const type = file.type || (/\.hei[cf]$/i.test(file.name) ? "image/heif" : "");
        if (!type.startsWith("image/")) {
            throw new Error("not an image (JPEG, PNG, WebP, HEIC or HEIF)");
        }
        report("asking for an upload URL");
        const upload = await postJson(widget.dataset.uploadUrl, token, house);
        if (file.size > upload.max_size) {
            const megabytes = upload.max_size / 1048576;
            const limit = Number.isInteger(megabytes) ? `${megabytes} MB` : `${upload.max_size} bytes`;
            throw new Error(`larger than the ${limit} limit`);
        }
        const form = new FormData();
        for (const [name, value] of Object.entries(upload.fields)) {
            form.append(name, value);
        }
        form.append("Content-Type", type);
        form.append("file", file);  // S3 reads every field after the file as part of it: the file goes last
        report("sending to the bucket");
        let answer = null;
        try {
            answer = await fetch(upload.url, {method: "POST", body: form});
        } catch (error) {
            // The browser hides the bucket's answer when the bucket's CORS rule does not list this page's origin
            // (CORS_ALLOWED_ORIGINS; make run lists its own), or the bucket was not reached: completing tells
            // whether the photo arrived.
        }
        if (answer !== null && !answer.ok) {
            // S3 says why in XML: <Error><Code>EntityTooLarge</Code><Message>...</Message></Error>
            const message = /<Message>([^<]*)<\/Message>/.exec(await answer.text());
            throw new Error(`the bucket refused it: ${message ? message[1] : `HTTP ${answer.status}`}`);
        }
        report("checking");
        return postJson(widget.dataset.completeUrl, token, {...house, key: upload.key, filename: file.name});
    }

    function statusLine(list, file) {
        const line = document.createElement("li");
        line.className = "direct-upload-pending";
        const name = document.createElement("span");
        name.textContent = `${file.name}: `;
        const state = document.createElement("span");
        state.className = "direct-upload-state";
        line.append(name, state);
        list.append(line);
        return {
            report(text) {
                state.textContent = text;
            },
            done(image) {
                line.className = "direct-upload-done";
                state.textContent = "stored (it appears among the images once the page is reloaded) ";
                const preview = document.createElement("img");
                preview.className = "direct-upload-thumbnail";
                preview.alt = image.original_filename;
                preview.style.maxHeight = "48px";
                preview.src = image.secure_url;
                line.append(preview);
            },
            failed(error) {
                line.className = "direct-upload-failed errornote";
                // The server's reasons start with the file's name, which the line already shows.
                const prefix = `${file.name}: `;
                state.textContent = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
            },
        };
    }

    async function sendAll(widget) {
        const input = widget.querySelector(".direct-upload-files");
        const button = widget.querySelector(".direct-upload-start");
        const list = widget.querySelector(".direct-upload-status");
        const files = [...input.files];
        if (files.length === 0) {
            return;
        }
        button.disabled = true;
        // One after another: a phone on a slow link gains nothing from parallel uploads.
        for (const file of files) {
            const line = statusLine(list, file);
            try {
                line.done(await sendOne(widget, file, line.report));
            } catch (error) {
                line.failed(error);
            }
        }
        input.value = "";
        button.disabled = false;
    }

    document.addEventListener("DOMContentLoaded", function () {
        for (const widget of document.querySelectorAll(".direct-upload")) {
            widget.querySelector(".direct-upload-start").addEventListener("click", () => sendAll(widget));
        }
    });
})();
