"""Emotion vocabularies shared by the kiosk camera and the model trainer: constants only.

EXPRESSIONS are the 7 FER2013 classes in label order (0..6). EMOTIC_CATEGORIES are the 26
EMOTIC categories (Kosti et al., 2019) in their official order. Both orders are the output
orders of models/emotion26.onnx.

BRIDGE maps the 7 expression probabilities to 26 EMOTIC scores inside the ONNX graph:
    emotions[j] = sum_i expressions[i] * BRIDGE[i][j]
Each weight is in [0, 1] and reads as "how strongly a face showing expression i is evidence
for category j" (1.0: the same state; below 1: a related, weaker reading). Because the
expression probabilities sum to 1, every score lies in [0, 1]. Rows need not sum to 1: the
26 scores are multi-label, as in EMOTIC, not a distribution. Categories that no expression
backs score 0; models/README.md says which categories are observed, inferred or unobservable.

VAD_NORMS are valence, arousal and dominance in [0, 1] for the word naming each expression,
from the NRC VAD Lexicon v1: S. M. Mohammad, "Obtaining Reliable Human Ratings of Valence,
Arousal, and Dominance for 20,000 English Words", ACL 2018. The model's vad output is the
probability-weighted mean of these rows.
"""

from typing import Final

EXPRESSIONS: Final[tuple[str, ...]] = (
    "angry",
    "disgust",
    "fear",
    "happy",
    "sad",
    "surprise",
    "neutral",
)

EMOTIC_CATEGORIES: Final[tuple[str, ...]] = (
    "Affection",
    "Anger",
    "Annoyance",
    "Anticipation",
    "Aversion",
    "Confidence",
    "Disapproval",
    "Disconnection",
    "Disquietment",
    "Doubt/Confusion",
    "Embarrassment",
    "Engagement",
    "Esteem",
    "Excitement",
    "Fatigue",
    "Fear",
    "Happiness",
    "Pain",
    "Peace",
    "Pleasure",
    "Sadness",
    "Sensitivity",
    "Suffering",
    "Surprise",
    "Sympathy",
    "Yearning",
)

VAD_DIMENSIONS: Final[tuple[str, ...]] = ("valence", "arousal", "dominance")

# expression -> (lexicon word, (valence, arousal, dominance)). Values were cross-checked
# against third-party copies of lexicon v1 rows, not the NRC file itself: see models/README.md.
VAD_NORMS: Final[dict[str, tuple[str, tuple[float, float, float]]]] = {
    "angry": ("anger", (0.167, 0.865, 0.657)),
    "disgust": ("disgust", (0.052, 0.775, 0.317)),
    "fear": ("fear", (0.073, 0.840, 0.293)),
    "happy": ("happy", (1.000, 0.735, 0.772)),
    "sad": ("sadness", (0.052, 0.288, 0.164)),
    "surprise": ("surprised", (0.784, 0.855, 0.539)),
    "neutral": ("neutral", (0.469, 0.184, 0.357)),
}

# expression -> {EMOTIC category: weight}; categories not named get 0.
BRIDGE_WEIGHTS: Final[dict[str, dict[str, float]]] = {
    "angry": {"Anger": 1.0, "Annoyance": 0.8, "Disapproval": 0.6, "Aversion": 0.3},
    "disgust": {"Aversion": 1.0, "Disapproval": 0.7, "Annoyance": 0.4},
    "fear": {"Fear": 1.0, "Disquietment": 0.7},
    "happy": {"Happiness": 1.0, "Pleasure": 0.7, "Excitement": 0.4},
    "sad": {"Sadness": 1.0, "Suffering": 0.4, "Disconnection": 0.3},
    "surprise": {"Surprise": 1.0, "Excitement": 0.3, "Anticipation": 0.2},
    "neutral": {"Peace": 0.3},
}

# The same weights as a dense 7 x 26 matrix, rows in EXPRESSIONS order.
BRIDGE: Final[tuple[tuple[float, ...], ...]] = tuple(
    tuple(BRIDGE_WEIGHTS[expression].get(category, 0.0) for category in EMOTIC_CATEGORIES)
    for expression in EXPRESSIONS
)

# 7 x 3 matrix, rows in EXPRESSIONS order, columns in VAD_DIMENSIONS order.
VAD_TABLE: Final[tuple[tuple[float, float, float], ...]] = tuple(
    VAD_NORMS[expression][1] for expression in EXPRESSIONS
)
