"""Word and character error rate of the configured transcriber on audio files with reference transcripts.

A folder holds ``name.txt`` (the reference) and ``name.wav|.mp3|.m4a|.flac|.ogg``; a ``.txt`` with no audio beside
it is spoken with espeak-ng (in the recogniser's language, Danish by default) into a temporary file, so CI needs
no committed audio.

Beside the error rates: how well low-confidence marking finds the recogniser's errors (``confidence``, from the
same transcriber call; see :mod:`assistant.evaluation.confidence`), pooled separately over recorded files (the
figure issue 13's target is about) and generated ones (synthetic speech, a second figure only).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.evaluation.confidence import ScoredWord, confidence_report, marking, scored_words
from assistant.evaluation.metrics import character_error_rate, normalise_danish, word_error_rate
from assistant.settings import Settings
from assistant.speech import make_transcriber, speak, write_wav
from assistant.speech.transcriber import transcribe_expecting
from assistant.speech.vocabulary import decoder_vocabulary

AUDIO_SUFFIXES = (".wav", ".mp3", ".m4a", ".flac", ".ogg", ".webm")


def pairs(folder: Path, tmp: Path, limit: int | None = None, voice: str = "da") -> list[tuple[str, Path, str, bool]]:
    """(name, audio path, reference text, generated?) for every reference transcript in ``folder``."""
    out = []
    for ref in sorted(Path(folder).glob("*.txt"))[:limit]:
        reference = ref.read_text("utf-8").strip()
        audio = next((ref.with_suffix(s) for s in AUDIO_SUFFIXES if ref.with_suffix(s).exists()), None)
        generated = audio is None
        if generated:
            audio = write_wav(tmp / f"{ref.stem}.wav", speak(reference, voice=voice))
        out.append((ref.stem, audio, reference, generated))
    return out


def evaluate(folder: Path, settings: Settings, limit: int | None = None, units: Sequence[str] = ()) -> dict:
    """Per file and pooled WER/CER after Danish normalisation (case, punctuation, numbers as words).

    The recogniser gets the clinical vocabulary as ``settings.asr_vocabulary`` says, with ``units`` as the team's.
    """
    transcriber = make_transcriber(settings)
    vocabulary = decoder_vocabulary(settings, units)
    files, refs, hyps = [], [], []
    # Scored hypothesis words and deleted reference words, pooled apart for recorded and generated audio.
    scored: dict[str, tuple[list[ScoredWord], list[int]]] = {"recorded": ([], []), "generated": ([], [])}
    seconds = 0.0
    threshold = settings.low_confidence
    with tempfile.TemporaryDirectory() as tmp:
        for name, audio, reference, generated in pairs(folder, Path(tmp), limit, settings.whisper_language or "da"):
            started = time.perf_counter()
            transcript = transcribe_expecting(transcriber, audio, vocabulary)
            seconds += time.perf_counter() - started
            hypothesis = transcript.text
            words, deletions = scored_words(reference, transcript.segments)
            at = marking(words, threshold)
            files.append({"file": name, "generated_audio": generated, "reference": reference,
                          "hypothesis": hypothesis, "wer": round(word_error_rate(reference, hypothesis), 3),
                          "cer": round(character_error_rate(reference, hypothesis), 3),
                          "marked": {k: at[k] for k in ("words", "errors", "marked", "marked_errors")}})
            refs.append(normalise_danish(reference))
            hyps.append(normalise_danish(hypothesis))
            pool = scored["generated" if generated else "recorded"]
            pool[0].extend(words)
            pool[1].append(deletions)
    pooled_ref, pooled_hyp = " ".join(refs), " ".join(hyps)
    return {"transcriber": transcriber.model_id, "vocabulary": vocabulary.text if vocabulary else None,
            "transcribe_seconds": round(seconds, 1), "files": files,
            "pooled": {"wer": round(word_error_rate(pooled_ref, pooled_hyp), 3) if files else None,
                       "cer": round(character_error_rate(pooled_ref, pooled_hyp), 3) if files else None},
            "confidence": {kind: confidence_report(words, sum(deleted), threshold) | {"files": len(deleted)}
                           for kind, (words, deleted) in scored.items() if deleted}}
