"""Relation classification: (sentence, country A, country B) → conflict / neutral / cooperation.

Data loading and splits (``data``), input marking (``markers``), training (``train``),
evaluation (``evaluate``) and model cards (``card``) live here; export and serving
(``export``, ``engine``) need only onnxruntime and tokenizers at run time.
"""
