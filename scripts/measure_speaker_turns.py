"""Measure speaker turns on generated conversations: espeak-ng Danish voices taking turns of a few seconds.

Each turn is one segment with its known speaker (oracle segmentation), so the score is the speaker labelling alone.
Diarization error rate here: the share of speech time whose label is wrong after the best one-to-one mapping of
found labels to true speakers (Hungarian method on the label-by-speaker time-overlap matrix, scipy's
linear_sum_assignment); only speaker confusion is scored, as segments come from the turns or from Whisper.
Found speakers left without a partner count as wrong, so inventing a speaker always costs.

    .venv/bin/python scripts/measure_speaker_turns.py [--threshold 0.9] [--seeds 10] [--varied] [--whisper]

``--whisper`` also runs the bundled Whisper base on each conversation and labels its own segments, as the pipeline
would see them; a segment that runs across a change of speaker is then partly wrong whatever its label.
"""

from __future__ import annotations

import argparse
import random

import numpy as np
from scipy.optimize import linear_sum_assignment

from assistant.models import Segment
from assistant.speech.speakers import MfccSpeakerTurns
from assistant.speech.spoken_audio import speak

SAMPLE_RATE = 16_000
SENTENCES = [
    "Vi starter debriefingen nu.",
    "Patienten fik den forkerte insulin ved vagtskiftet.",
    "Pennene lå i samme skuffe og lignede hinanden meget.",
    "Der var travlt, fordi to patienter skulle overflyttes.",
    "Vi har haft mange nye vikarer den sidste måned.",
    "Aftenvagten målte blodsukkeret og gav glukose med det samme.",
    "Lægen blev tilkaldt inden for ti minutter.",
    "Opbevaringen gør det let at tage fejl.",
    "Vi foreslår, at insulintyper opbevares adskilt.",
    "Vi følger op om en måned for at se, om tjeklisten bruges.",
    "Hvem tjekkede medicinen før den blev givet?",
    "Det var godt, at symptomerne blev opdaget hurtigt.",
]
# (espeak-ng voice, pitch 0-99, words per minute): clearly different variants, as a real team would be.
VOICES = {
    "m1": ("da+m1", 40, 160),
    "f2": ("da+f2", 70, 175),
    "m3": ("da+m3", 60, 145),
    "m3 low": ("da+m3", 25, 145),  # as low as m1: the hard case, two men at the same pitch
}
CONDITIONS = {
    "2 voices (m1, f2)": ["m1", "f2"],
    "2 voices, both male (m1, m3)": ["m1", "m3"],
    "2 voices, same pitch (m1, m3 low)": ["m1", "m3 low"],
    "3 voices (m1, f2, m3)": ["m1", "f2", "m3"],
    "1 voice (m1)": ["m1"],
    "1 voice (f2)": ["f2"],
}


def conversation(voices: list[str], turns: int, seed: int, varied: bool = False
                 ) -> tuple[np.ndarray, list[Segment], list[str]]:
    """Audio, one segment per turn, and each turn's true speaker; voices alternate, 1-2 sentences a turn.

    ``varied``: each turn's speed (±20 %), pitch (±5) and loudness (0.3-1) change, with noise 30 dB under the
    loudest speech, so one voice is not the same sound every time it speaks.
    """
    rng = random.Random(seed)
    pieces, segments, truth, clock = [], [], [], 0.0
    for turn in range(turns):
        name = voices[turn % len(voices)] if len(voices) < 3 else rng.choice([v for v in voices if not truth
                                                                              or v != truth[-1]])
        voice, pitch, rate = VOICES[name]
        text = " ".join(rng.sample(SENTENCES, rng.choice([1, 2])))
        if varied:
            rate, pitch = int(rate * rng.uniform(0.8, 1.2)), pitch + rng.randint(-5, 5)
        speech = speak(text, voice, rate, pitch) * (rng.uniform(0.3, 1.0) if varied else 1.0)
        pause = np.zeros(int(rng.uniform(0.2, 0.6) * SAMPLE_RATE), dtype=np.float32)
        segments.append(Segment(index=turn, start=round(clock, 3), end=round(clock + len(speech) / SAMPLE_RATE, 3),
                                text=text))
        truth.append(name)
        pieces += [speech, pause]
        clock += (len(speech) + len(pause)) / SAMPLE_RATE
    audio = np.concatenate(pieces)
    if varied:
        audio = audio + np.random.default_rng(seed).normal(0, np.abs(audio).max() * 10 ** (-30 / 20), len(audio))
    return audio.astype(np.float32), segments, truth


def der(found: list[Segment], turns: list[Segment], truth: list[str]) -> float:
    """Share of the speech time both cover whose found label is wrong, after the best one-to-one label mapping.

    Time is counted where a found segment overlaps a true turn, so a found segment running across a change of
    speaker is partly wrong whatever label it gets; speech no segment covers is not counted (missed speech is the
    recogniser's error, not the speaker labelling's).
    """
    labels, speakers = sorted({s.speaker or "" for s in found}), sorted(set(truth))
    overlap = np.zeros((len(labels), len(speakers)))
    for segment in found:
        for turn, speaker in zip(turns, truth, strict=True):
            shared = min(segment.end, turn.end) - max(segment.start, turn.start)
            if shared > 0:
                overlap[labels.index(segment.speaker or ""), speakers.index(speaker)] += shared
    rows, cols = linear_sum_assignment(-overlap)
    return 1.0 - overlap[rows, cols].sum() / max(overlap.sum(), 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=100, help="seeds 0-3 were used to choose the settings")
    parser.add_argument("--whisper", action="store_true")
    parser.add_argument("--varied", action="store_true", help="vary speed, pitch and loudness per turn; add noise")
    args = parser.parse_args()
    turns_method = MfccSpeakerTurns() if args.threshold is None else MfccSpeakerTurns(args.threshold)
    transcriber = None
    if args.whisper:
        from assistant.settings import Settings
        from assistant.speech.backends import make_transcriber

        transcriber = make_transcriber(Settings())
    print(f"threshold {turns_method.threshold}, {args.seeds} conversations of {args.turns} turns per condition "
          f"(seeds {args.first_seed}-{args.first_seed + args.seeds - 1}{', varied' if args.varied else ''})")
    print("| condition | segments | DER (mean) | DER (worst) | speakers found (true) |")
    print("|---|---|---|---|---|")
    for condition, voices in CONDITIONS.items():
        for source in ["turns"] + (["whisper"] if transcriber else []):
            rates, counts = [], []
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                audio, turns, truth = conversation(voices, args.turns, seed, args.varied)
                segments = transcriber.transcribe(audio).segments if source == "whisper" else turns
                labelled = turns_method.assign(audio, segments)
                rates.append(der(labelled, turns, truth))
                counts.append(len({s.speaker for s in labelled}))
            print(f"| {condition} | {source} | {abs(100 * np.mean(rates)):.1f} % | {abs(100 * max(rates)):.1f} % | "
                  f"{', '.join(map(str, counts))} ({len(voices)}) |", flush=True)


if __name__ == "__main__":
    main()
