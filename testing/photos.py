"""Photos for the tests: JPEG/PNG bytes and uploads, a house's three photos, variants made now, queued tasks run,
ThumbHash's reference."""

from __future__ import annotations

import io
import subprocess

from PIL import Image

from .project import BASE_DIR


def image_bytes(
    image_format: str = "JPEG", size: tuple[int, int] = (64, 48), color=(200, 120, 40), **save_options
) -> bytes:
    """A real encoded image made with Pillow."""
    buffer = io.BytesIO()
    mode = "RGBA" if image_format == "PNG" else "RGB"
    Image.new(mode, size, color).save(buffer, format=image_format, **save_options)
    return buffer.getvalue()


def colour_near(color: str, rgb: tuple[int, int, int], tolerance: int = 3) -> bool:
    """Whether a `#rrggbb` colour is within `tolerance` of `rgb` on each channel (JPEG shifts flat colours a little)."""
    channels = [int(color[index : index + 2], 16) for index in (1, 3, 5)]
    return len(color) == 7 and all(abs(got - want) <= tolerance for got, want in zip(channels, rgb, strict=True))


def three_photos(house) -> list:
    """Three small photos stored for `house`, in this order (the drag-and-drop tests move them)."""
    from property.services.uploads import property_images_store

    return property_images_store(
        house=house, files=[jpeg_upload(name) for name in ("salon.jpg", "cocina.jpg", "jardin.jpg")]
    )


def reorder_requests(page) -> list[str]:
    """The methods of the requests a browser page sends to a reorder_images endpoint from now on."""
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.method) if "/reorder_images/" in request.url else None)
    return calls


def jpeg_upload(name: str = "photo.jpg", size: tuple[int, int] = (64, 48)):
    """A real JPEG as a multipart upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, image_bytes("JPEG", size), content_type="image/jpeg")


def make_variants_now(*images) -> None:
    """Run the variants task of each image here, now, and reload the image: the task function itself, for tests
    of what it makes (test_tasks runs it through the real queues and workers)."""
    from property.tasks import make_image_variants

    for image in images:
        make_image_variants.call(image.pk)
        image.refresh_from_db()


def run_queued_tasks() -> int:
    """Run every task the database queue holds ready, here and now, through db_worker's own `Worker.run_task`
    (a worker process would not see this test's transaction); how many ran. test_tasks runs the worker command."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    ran = 0
    while (task_result := DBTaskResult.objects.ready().first()) is not None:
        task_result.claim(worker.worker_id)
        worker.run_task(task_result)
        ran += 1
    return ran


# The reference ThumbHash implementation (Evan Wallace's thumbhash.js, from npm: `make test` installs it), run by
# Node: encodes {"encode": [width, height, rgba base64]} and decodes {"decode": hash base64} to the width, height
# and mean RGBA of the placeholder it paints.
_THUMBHASH_REFERENCE = """
import {readFileSync} from "node:fs";
import {rgbaToThumbHash, thumbHashToRGBA} from "THUMBHASH_JS";
const answers = JSON.parse(readFileSync(0, "utf8")).map((request) => {
  if (request.encode) {
    const [w, h, rgba] = request.encode;
    return Buffer.from(rgbaToThumbHash(w, h, Buffer.from(rgba, "base64"))).toString("base64");
  }
  const {w, h, rgba} = thumbHashToRGBA(Buffer.from(request.decode, "base64"));
  const mean = [0, 0, 0, 0];
  for (let i = 0; i < rgba.length; i++) mean[i % 4] += rgba[i] / (w * h);
  return {w, h, mean};
});
process.stdout.write(JSON.stringify(answers));
"""


def thumbhash_reference(requests_: list[dict]) -> list:
    """Ask the reference ThumbHash implementation, in one Node run, for each request's answer."""
    import json

    module = BASE_DIR / "node_modules" / "thumbhash" / "thumbhash.js"
    assert module.exists(), "make test installs the reference thumbhash (npm ci)"
    run = subprocess.run(
        ["node", "--input-type=module", "-e", _THUMBHASH_REFERENCE.replace("THUMBHASH_JS", module.as_posix())],
        input=json.dumps(requests_),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)
