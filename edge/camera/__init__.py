"""The kiosk's camera: frame sources, face detection, the emotion classifier, the monitor.

Frames live in memory only: no pixels, crops or embeddings are ever written, logged or sent.
The submodules import OpenCV, MediaPipe and ONNX Runtime (the `camera` extra); this package
itself imports nothing, so a kiosk without the extra still starts.
"""
