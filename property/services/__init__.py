"""Side effects on property images, one module per concern: uploads (checking, storing and recording photos),
image_updates (changing and deleting them), direct_uploads (photos posted straight to the bucket)."""
