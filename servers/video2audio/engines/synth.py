"""Sound primitives of the procedural engine: pads, filtered-noise beds, chirps and hits.

Every generator returns a mono float32 array of `frames` samples at `rate` Hz with a
peak near 1, so the composer sets the balance with plain gains. Randomness comes only
from the `numpy.random.Generator` passed in, which makes a seed reproduce the output.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt

__all__ = [
    "add_event",
    "add_stereo",
    "arpeggio",
    "bells",
    "birds",
    "bandpass_noise",
    "crickets",
    "city",
    "fire",
    "hats",
    "impact",
    "kicks",
    "pad",
    "rain",
        "thunder",
    "water",
    "waves",
    "whoosh",
    "wind",
]


def _filter(signal: np.ndarray, rate: int, kind: str, cutoff: float | tuple[float, float], order: int = 2) -> np.ndarray:
    nyquist = rate / 2
    if isinstance(cutoff, tuple):
        low, high = max(cutoff[0], 10.0), min(cutoff[1], nyquist * 0.95)
        sos = butter(order, (low, high), btype="bandpass", fs=rate, output="sos")
    else:
        sos = butter(order, min(cutoff, nyquist * 0.95), btype=kind, fs=rate, output="sos")
    return sosfilt(sos, signal).astype(np.float32)


def _normalize(signal: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(signal))) if signal.size else 0.0
    return signal / peak if peak > 0 else signal


def _slow_noise(frames: int, rate: int, rng: np.random.Generator, hertz: float) -> np.ndarray:
    """Return a smooth random curve in 0..1 that changes about `hertz` times a second."""
    points = max(2, int(frames / rate * hertz) + 2)
    knots = rng.random(points)
    positions = np.linspace(0, points - 1, frames)
    return np.interp(positions, np.arange(points), knots).astype(np.float32)


def bandpass_noise(frames: int, rate: int, rng: np.random.Generator, band: tuple[float, float]) -> np.ndarray:
    noise = rng.standard_normal(frames).astype(np.float32)
    return _normalize(_filter(noise, rate, "bandpass", band))


def add_event(target: np.ndarray, event: np.ndarray, start: int) -> None:
    """Add `event` into `target` at sample `start`, cutting whatever falls outside."""
    if start >= target.size or start + event.size <= 0:
        return
    begin = max(start, 0)
    end = min(start + event.size, target.size)
    target[begin:end] += event[begin - start : end - start]


def add_stereo(target: np.ndarray, mono: np.ndarray, pan: float = 0.0, delay_frames: int = 0) -> None:
    """Add `mono` into the (frames, 2) `target` at `pan` (-1 left .. 1 right, equal power).

    Delaying the right side by a few milliseconds widens the image without changing the level.
    """
    angle = (pan + 1.0) * np.pi / 4
    target[:, 0] += mono * np.float32(np.cos(angle))
    if delay_frames > 0:
        target[delay_frames:, 1] += mono[:-delay_frames] * np.float32(np.sin(angle))
    else:
        target[:, 1] += mono * np.float32(np.sin(angle))


_TABLE_SIZE = 4096
PAD_DECIMATION = 4


def _harmonic_tables(frequency: float, rate: int, harmonics: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray | None]:
    """Return one period of harmonics 1-2 (warm) and 3 and up (bright), dropping those above 0.45 x rate."""
    angle = 2 * np.pi * np.arange(_TABLE_SIZE) / _TABLE_SIZE
    warm = np.zeros(_TABLE_SIZE)
    bright = np.zeros(_TABLE_SIZE)
    for number, amplitude in enumerate(harmonics, start=1):
        if frequency * number > rate * 0.45:
            break
        target = warm if number <= 2 else bright
        target += amplitude * np.sin(number * angle)
    return warm.astype(np.float32), bright.astype(np.float32) if bright.any() else None


def pad(
    frames: int,
    rate: int,
    rng: np.random.Generator,
    *,
    root_hz: float,
    chords: tuple[tuple[int, ...], ...],
    chord_seconds: float,
    harmonics: tuple[float, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Render a chord progression; returns (warm layer, bright layer) of upper harmonics.

    Chords overlap by a second with raised-cosine envelopes, so changes never click.
    The pad is rendered at a quarter of `rate` and upsampled, for a quarter of the cost.
    This drops partials above about 0.11 x `rate` (4.9 kHz at 44.1 kHz), which pads
    barely have.
    """
    decimation = PAD_DECIMATION if rate % PAD_DECIMATION == 0 else 1
    warm, bright = _render_pad(
        -(-frames // decimation), rate // decimation, rng,
        root_hz=root_hz, chords=chords, chord_seconds=chord_seconds, harmonics=harmonics,
    )  # fmt: skip
    if decimation > 1:
        warm = resample_poly(warm, decimation, 1)[:frames].astype(np.float32)
        bright = resample_poly(bright, decimation, 1)[:frames].astype(np.float32)
    return warm, bright


def _render_pad(
    frames: int,
    rate: int,
    rng: np.random.Generator,
    *,
    root_hz: float,
    chords: tuple[tuple[int, ...], ...],
    chord_seconds: float,
    harmonics: tuple[float, ...],
) -> tuple[np.ndarray, np.ndarray]:
    time = np.arange(frames, dtype=np.float64) / rate
    warm = np.zeros(frames, np.float32)
    bright = np.zeros(frames, np.float32)
    chord_frames = max(1, int(chord_seconds * rate))
    overlap = min(rate, chord_frames // 2)
    count = frames // chord_frames + 1
    for index in range(count):
        chord = chords[index % len(chords)]
        start = max(index * chord_frames - overlap, 0)
        end = min((index + 1) * chord_frames + overlap, frames)
        if start >= end:
            break
        length = end - start
        envelope = np.ones(length, np.float32)
        ramp = min(2 * overlap, length // 2)
        if ramp > 0:
            shape = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))).astype(np.float32)
            if index > 0:
                envelope[:ramp] = shape
            if end < frames:
                envelope[-ramp:] = np.minimum(envelope[-ramp:], shape[::-1])
        cycles = time[start:end]
        for semitone in chord:
            frequency = root_hz * 2 ** (semitone / 12) * (1 + rng.normal(0, 0.0015))
            warm_table, bright_table = _harmonic_tables(frequency, rate, harmonics)
            # The phase is computed once in float64, which stays exact over minutes. A
            # one-period table contains the summed harmonics, far cheaper than one sine each.
            position = np.mod(frequency * cycles + rng.random(), 1.0)
            table_index = (position * _TABLE_SIZE).astype(np.int32)
            warm[start:end] += warm_table[table_index] * envelope
            if bright_table is not None:
                bright[start:end] += bright_table[table_index] * envelope
    return _normalize(warm), _normalize(bright) if bright.any() else bright


def bells(frames: int, rate: int, rng: np.random.Generator, *, root_hz: float, every_seconds: float) -> np.ndarray:
    """Sparse bell-like tones (inharmonic partials, exponential decay) on a pentatonic scale."""
    output = np.zeros(frames, np.float32)
    length = int(2.5 * rate)
    time = np.arange(length) / rate
    decay = np.exp(-time * 2.2).astype(np.float32)
    position = rng.uniform(0.5, every_seconds)
    while position * rate < frames:
        semitone = rng.choice([0, 2, 4, 7, 9, 12, 14, 16])
        frequency = root_hz * 4 * 2 ** (semitone / 12)
        tone = np.sin(2 * np.pi * frequency * time) + 0.4 * np.sin(2 * np.pi * frequency * 2.76 * time)
        add_event(output, (tone * decay).astype(np.float32), int(position * rate))
        position += rng.uniform(0.5, 1.5) * every_seconds
    return _normalize(output)


def water(frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Render a stream: band-passed noise with fast babbling modulation, plus droplets."""
    bed = bandpass_noise(frames, rate, rng, (350.0, 2800.0))
    babble = 0.55 + 0.45 * _slow_noise(frames, rate, rng, 9.0)
    output = bed * babble
    time = np.arange(int(0.05 * rate)) / rate
    for _ in range(int(frames / rate * 6)):
        frequency = rng.uniform(900, 2600)
        sweep = np.sin(2 * np.pi * (frequency * time + 4000 * time**2)) * np.exp(-time * 90)
        add_event(output, (0.5 * sweep).astype(np.float32), int(rng.integers(0, frames)))
    return _normalize(output)


def waves(frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Sea waves: low-passed noise under a slow swell of about seven seconds."""
    bed = _normalize(_filter(rng.standard_normal(frames).astype(np.float32), rate, "lowpass", 900.0))
    time = np.arange(frames) / rate
    swell = (0.5 + 0.5 * np.sin(2 * np.pi * time / rng.uniform(6.0, 8.0) + rng.random() * 6.28)) ** 2
    return _normalize(bed * swell.astype(np.float32))


def rain(frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Rain: high-passed hiss with sparse clicks of drops."""
    hiss = _normalize(_filter(rng.standard_normal(frames).astype(np.float32), rate, "highpass", 2500.0))
    drops = np.zeros(frames, np.float32)
    positions = rng.integers(0, frames, int(frames / rate * 40))
    drops[positions] = rng.uniform(0.5, 1.0, positions.size)
    drops = _normalize(_filter(drops, rate, "bandpass", (1500.0, 6000.0)))
    return _normalize(0.6 * hiss + 0.4 * drops)


def wind(frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Wind: band-passed noise whose loudness drifts slowly."""
    bed = bandpass_noise(frames, rate, rng, (180.0, 900.0))
    gusts = 0.3 + 0.7 * _slow_noise(frames, rate, rng, 0.25)
    return _normalize(bed * gusts)


def birds(frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Bird calls: short upward and downward sweeps between 2 and 5 kHz, a few per second."""
    output = np.zeros(frames, np.float32)
    for _ in range(max(1, int(frames / rate * 0.7))):
        start = int(rng.integers(0, frames))
        base = rng.uniform(2200, 4200)
        for note in range(int(rng.integers(2, 6))):
            length = int(rng.uniform(0.04, 0.09) * rate)
            time = np.arange(length) / rate
            sweep = base * (1 + rng.uniform(-0.3, 0.4) * time / time[-1])
            phase = 2 * np.pi * np.cumsum(sweep) / rate
            envelope = np.sin(np.pi * np.arange(length) / length)
            add_event(output, (np.sin(phase) * envelope).astype(np.float32), start + note * int(0.11 * rate))
    return _normalize(output)


def crickets(frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Crickets: a 4.5 kHz tone gated at 30 Hz in bursts about once a second."""
    time = np.arange(frames) / rate
    tone = np.sin(2 * np.pi * 4500 * time)
    gate = (np.sin(2 * np.pi * 30 * time) > 0.3).astype(np.float32)
    bursts = (np.sin(2 * np.pi * rng.uniform(0.8, 1.2) * time) > 0.6).astype(np.float32)
    return _normalize(_filter((tone * gate * bursts).astype(np.float32), rate, "lowpass", 7000.0))


def city(frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """City hum: low rumble of traffic, a faint mains hum and slow swells of passing cars."""
    rumble = _normalize(_filter(rng.standard_normal(frames).astype(np.float32), rate, "lowpass", 320.0, order=4))
    time = np.arange(frames) / rate
    hum = 0.15 * np.sin(2 * np.pi * 100 * time) + 0.08 * np.sin(2 * np.pi * 200 * time)
    passing = 0.4 + 0.6 * _slow_noise(frames, rate, rng, 0.3)
    hiss = bandpass_noise(frames, rate, rng, (600.0, 2500.0))
    return _normalize(rumble * passing + hum.astype(np.float32) + 0.25 * hiss * passing)


def fire(frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Fire: low roar and sparse bright crackles."""
    roar = _normalize(_filter(rng.standard_normal(frames).astype(np.float32), rate, "lowpass", 400.0))
    crackles = np.zeros(frames, np.float32)
    positions = rng.integers(0, frames, int(frames / rate * 12))
    crackles[positions] = rng.uniform(0.3, 1.0, positions.size)
    crackles = _normalize(_filter(crackles, rate, "bandpass", (1200.0, 5000.0)))
    return _normalize(0.5 * roar + crackles)


def thunder(frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Distant thunder: low rumbles with slow decay about every twelve seconds."""
    output = np.zeros(frames, np.float32)
    length = int(3.0 * rate)
    decay = np.exp(-np.arange(length) / rate * 1.3).astype(np.float32)
    position = rng.uniform(1.0, 6.0)
    while position * rate < frames:
        rumble = _filter(rng.standard_normal(length).astype(np.float32), rate, "lowpass", 160.0)
        add_event(output, _normalize(rumble) * decay, int(position * rate))
        position += rng.uniform(8.0, 16.0)
    return _normalize(output)


def kicks(frames: int, rate: int, *, bpm: float) -> np.ndarray:
    """Render a kick drum on every beat: a sine falling from 110 to 45 Hz in 0.18 s."""
    output = np.zeros(frames, np.float32)
    length = int(0.18 * rate)
    time = np.arange(length) / rate
    frequency = 45 + 65 * np.exp(-time * 30)
    hit = (np.sin(2 * np.pi * np.cumsum(frequency) / rate) * np.exp(-time * 18)).astype(np.float32)
    beat = 60.0 / bpm
    for index in range(int(frames / rate / beat) + 1):
        add_event(output, hit, int(index * beat * rate))
    return output


def hats(frames: int, rate: int, rng: np.random.Generator, *, bpm: float) -> np.ndarray:
    """Closed hi-hats on every eighth note, the off-beats louder."""
    output = np.zeros(frames, np.float32)
    length = int(0.04 * rate)
    decay = np.exp(-np.arange(length) / rate * 120).astype(np.float32)
    step = 30.0 / bpm
    for index in range(int(frames / rate / step) + 1):
        level = 1.0 if index % 2 else 0.45
        add_event(output, rng.standard_normal(length).astype(np.float32) * decay * level, int(index * step * rate))
    return _normalize(_filter(output, rate, "highpass", 7000.0))


def arpeggio(
    frames: int, rate: int, *, root_hz: float, chords: tuple[tuple[int, ...], ...], chord_seconds: float, bpm: float
) -> np.ndarray:
    """Sixteenth-note arpeggios of the current chord, two octaves up, with a saw-like tone."""
    output = np.zeros(frames, np.float32)
    step = 15.0 / bpm
    length = int(step * rate)
    time = np.arange(length) / rate
    decay = np.exp(-time * 14).astype(np.float32)
    for index in range(int(frames / rate / step) + 1):
        start_seconds = index * step
        chord = chords[int(start_seconds / chord_seconds) % len(chords)]
        frequency = root_hz * 4 * 2 ** (chord[index % len(chord)] / 12)
        tone = sum(np.sin(2 * np.pi * frequency * number * time) / number for number in range(1, 6))
        add_event(output, (tone * decay).astype(np.float32), int(start_seconds * rate))
    return _normalize(output)


def whoosh(rate: int, rng: np.random.Generator, seconds: float = 0.7) -> np.ndarray:
    """Render a swish for a visible movement: band-passed noise that swells and fades."""
    length = int(seconds * rate)
    noise = bandpass_noise(length, rate, rng, (500.0, 4500.0))
    position = np.linspace(0, 1, length)
    envelope = np.where(position < 0.4, position / 0.4, (1 - position) / 0.6) ** 2
    return (noise * envelope).astype(np.float32)


def impact(rate: int, rng: np.random.Generator, seconds: float = 0.8) -> np.ndarray:
    """Render a low hit for a cut: a falling sine thump plus a short noise transient."""
    length = int(seconds * rate)
    time = np.arange(length) / rate
    frequency = 38 + 50 * np.exp(-time * 12)
    thump = np.sin(2 * np.pi * np.cumsum(frequency) / rate) * np.exp(-time * 6)
    transient = rng.standard_normal(length) * np.exp(-time * 60) * 0.5
    return _normalize((thump + _filter(transient.astype(np.float32), rate, "lowpass", 3000.0)).astype(np.float32))
