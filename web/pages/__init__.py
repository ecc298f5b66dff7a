"""The pages, one router per kind of reader."""
