"""The OHIF viewer in AWS: a private bucket behind CloudFront, and the viewer deployed into it."""
