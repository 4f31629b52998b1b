"""Getting data in: sources, a polite and safe HTTP client, images, and the catalog."""
