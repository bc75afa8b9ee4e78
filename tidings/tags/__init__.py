"""Tags and tag groups, and the taggings that link tags to lists, segments, campaigns and flows."""
