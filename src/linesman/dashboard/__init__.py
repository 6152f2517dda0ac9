"""The NOC web dashboard under /ui/: fleet overview, devices, map and bulk jobs."""
