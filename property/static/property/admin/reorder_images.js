"use strict";
// Drag-and-drop ordering of a house's photos in the admin: a row of the images inline dropped on another takes its
// place, and the whole new order goes to the API's reorder_images in one call, with the admin's session and its
// CSRF token (like direct_upload.js). The inline's order fields then show the order the API answered, so saving
// the house afterwards keeps it. Without JavaScript the order fields are how the order is set.
(function () {
    function rowsOf(table) {
        return Array.from(table.querySelectorAll("tbody tr.form-row.has_original"));
    }

    function imageId(row) {
        return Number(row.querySelector("input[type=hidden][name$='-id']").value);
    }

    async function save(widget, table) {
        const status = widget.querySelector(".image-order-status");
        const field = widget.closest("form").querySelector("[name=csrfmiddlewaretoken]");
        status.textContent = "saving the new order";
        try {
            const response = await fetch(widget.dataset.reorderUrl, {
                method: "POST",
                credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": field ? field.value : ""},
                body: JSON.stringify({ids: rowsOf(table).map(imageId)}),
            });
            const answer = await response.json().catch(() => ({}));
            if (!response.ok) {
                // {"error": ...} names the ids that are wrong (a photo added or deleted meanwhile: reload).
                throw new Error(answer.error || answer.detail || `the server answered ${response.status}`);
            }
            const orders = new Map(answer.map((image) => [image.id, image.order]));
            for (const row of rowsOf(table)) {
                row.querySelector("input[name$='-order']").value = orders.get(imageId(row));
            }
            status.textContent = "new order saved";
            status.className = "image-order-status image-order-saved";
        } catch (error) {
            status.textContent = `the new order was not saved: ${error.message}`;
            status.className = "image-order-status image-order-failed";
        }
    }

    document.addEventListener("DOMContentLoaded", function () {
        const widget = document.querySelector(".image-order[data-reorder-url]");
        const row = document.querySelector("tr.form-row.has_original input[name$='-order']");
        if (!widget || !row) {
            return;
        }
        const table = row.closest("table");
        let dragged = null;
        for (const target of rowsOf(table)) {
            target.draggable = true;
            target.style.cursor = "move";
            target.addEventListener("dragstart", (event) => {
                dragged = target;
                event.dataTransfer.effectAllowed = "move";
                event.dataTransfer.setData("text/plain", String(imageId(target)));
            });
            target.addEventListener("dragover", (event) => {
                if (dragged && dragged !== target) {
                    event.preventDefault();  // a drop is allowed here
                }
            });
            target.addEventListener("drop", (event) => {
                event.preventDefault();
                if (!dragged || dragged === target) {
                    return;
                }
                const rows = rowsOf(table);
                const upwards = rows.indexOf(dragged) > rows.indexOf(target);
                target.insertAdjacentElement(upwards ? "beforebegin" : "afterend", dragged);
                dragged = null;
                save(widget, table);
            });
            target.addEventListener("dragend", () => {
                dragged = null;
            });
        }
    });
})();
