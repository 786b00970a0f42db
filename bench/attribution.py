"""Attribution benchmark: 1,000,000 journeys over 12 channels, every model, Markov vs ChannelAttribution.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_conversion .venv/bin/python bench/attribution.py

The reference packages live in a separate environment (never in requirements.txt):
    /root/.pyenv/versions/3.11.7/bin/python -m venv /tmp/caenv
    /tmp/caenv/bin/pip install ChannelAttribution==2.2.5 marketing-attribution-models==2.1.1 matplotlib
Set CA_PYTHON to another interpreter if it lives elsewhere; without it the comparison is skipped.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path as FsPath

# single-threaded BLAS, like ChannelAttribution with ncore=1 (and no thrashing on a shared 2-core box)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import django
import numpy as np

sys.path.insert(0, str(FsPath(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")
django.setup()

from conversion.attribution import MODELS, Path, attribute, removal_effects

JOURNEYS = 1_000_000
CHANNELS = [
    "email", "sms", "whatsapp", "instagram", "facebook", "linkedin",
    "x", "organic_search", "paid_search", "social_organic", "referral", "direct",
]  # fmt: skip
MAX_LEN = 12
CA_PYTHON = os.environ.get("CA_PYTHON", "/tmp/caenv/bin/python")

REFERENCE = r"""
import json, sys, time
import pandas as pd
import ChannelAttribution as ca
from mam import MAM
data = pd.read_csv(sys.argv[1])
t = time.perf_counter()
out = ca.markov_model(data, "path", "conv", var_value="value", var_null="null",
                      out_more=True, verbose=False, flg_pro=False)
ca_seconds = time.perf_counter() - t
re = out["removal_effects"]
rows = []
for r in data.itertuples():
    for converted, weight in ((True, r.conv), (False, r.null)):
        if weight:
            rows.append((r.path.replace(">", " > "), converted, int(weight)))
frame = pd.DataFrame(rows, columns=["path", "conv", "occ"])
t = time.perf_counter()
mam = MAM(frame, format_type="grouped_journey", channels_colname="path",
          journey_with_conv_colname="conv", occurrences_colname="occ")
mam_re = mam.run_markov(transition_to_same_state=False).metadata["removal_effect"]["removal_effect"]
mam_seconds = time.perf_counter() - t
print(json.dumps({
    "ca_seconds": ca_seconds,
    "ca_removal_effects": dict(zip(re["channel_name"], re["removal_effects_conversion"])),
    "mam_seconds": mam_seconds,
    "mam_removal_effects": {str(k): float(v) for k, v in mam_re.items()},
}))
"""


def generate(rng: np.random.Generator) -> list[Path]:
    """Journeys with channel-dependent conversion odds, aggregated to distinct paths."""
    k = len(CHANNELS)
    lengths = np.minimum(rng.geometric(0.35, JOURNEYS), MAX_LEN)
    popularity = rng.dirichlet(np.full(k, 2.0))
    touches = rng.choice(k, size=int(lengths.sum()), p=popularity)
    lift = rng.uniform(0.0, 0.08, k)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    odds = 0.01 + np.add.reduceat(lift[touches], starts)
    converted = rng.random(JOURNEYS) < np.minimum(odds, 0.9)
    value = np.where(converted, rng.gamma(2.0, 40.0, JOURNEYS).round(2), 0.0)
    gaps = rng.exponential(4.0, touches.size)  # days since the previous touch
    within = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[starts] - gaps[starts], lengths)
    age = np.maximum(np.repeat(np.add.reduceat(gaps, starts), lengths) - within, 0.0)  # days before the last
    pos = np.arange(touches.size) - np.repeat(starts, lengths)

    keys = np.zeros(JOURNEYS, dtype=np.int64)  # a path as a base-(k+1) number, unique per sequence
    np.add.at(keys, np.repeat(np.arange(JOURNEYS), lengths), (touches + 1) * (k + 1) ** pos)
    uniq, inverse = np.unique(keys, return_inverse=True)
    conv = np.bincount(inverse, weights=converted, minlength=uniq.size)
    nulls = np.bincount(inverse, weights=~converted, minlength=uniq.size)
    val = np.bincount(inverse, weights=value, minlength=uniq.size)
    age_sum = np.zeros((uniq.size, MAX_LEN))
    np.add.at(age_sum, (np.repeat(inverse, lengths), pos), age)
    journeys = conv + nulls
    paths = []
    for i, key in enumerate(uniq.tolist()):
        chans = []
        while key:
            key, digit = divmod(key, k + 1)
            chans.append(CHANNELS[digit - 1])
        mean_age = (age_sum[i, : len(chans)] / journeys[i]).tolist()
        paths.append(Path(tuple(chans), int(conv[i]), int(nulls[i]), float(val[i]), tuple(mean_age)))
    return paths


def main() -> None:
    rng = np.random.default_rng(20261125)
    t = time.perf_counter()
    paths = generate(rng)
    print(f"generated {JOURNEYS:,} journeys -> {len(paths):,} distinct paths in {time.perf_counter() - t:.1f} s")
    total = sum(p.conversions for p in paths)
    timings = {}
    for model in MODELS:
        t = time.perf_counter()
        credit = attribute(paths, model)
        timings[model] = time.perf_counter() - t
        assert abs(sum(credit.values()) - total) < 1e-6 * total, model
        print(f"{model:16s} {timings[model]:6.2f} s")
    for order in (2, 3):
        t = time.perf_counter()
        credit = attribute(paths, "markov", order=order)
        seconds = time.perf_counter() - t
        assert abs(sum(credit.values()) - total) < 1e-6 * total
        print(f"{f'markov order {order}':16s} {seconds:6.2f} s")
    t = time.perf_counter()
    ours = removal_effects(paths)
    ours_seconds = time.perf_counter() - t
    print(f"{'removal_effects':16s} {ours_seconds:6.2f} s")
    if not os.path.exists(CA_PYTHON):
        print(f"reference interpreter {CA_PYTHON} missing: comparison skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv = FsPath(tmp, "paths.csv")
        with csv.open("w") as fh:
            fh.write("path,conv,null,value\n")
            for p in paths:
                fh.write(f"{'>'.join(p.channels)},{int(p.conversions)},{int(p.nulls)},{p.value}\n")
        done = subprocess.run([CA_PYTHON, "-c", REFERENCE, str(csv)], capture_output=True, text=True, check=True)
    ref = json.loads(done.stdout.strip().splitlines()[-1])
    markov = timings["markov"]
    print(f"ChannelAttribution markov_model (simulation) {ref['ca_seconds']:.2f} s; "
          f"ours {markov:.2f} s -> ours is {ref['ca_seconds'] / markov:.1f}x faster")  # fmt: skip
    print(f"marketing-attribution-models run_markov (exact) {ref['mam_seconds']:.2f} s")
    diff_mam = max(abs(ours[c] - ref["mam_removal_effects"][c]) for c in CHANNELS)
    diff_ca = max(abs(ours[c] - ref["ca_removal_effects"][c]) for c in CHANNELS)
    print(f"max |removal effect diff| vs marketing-attribution-models (exact): {diff_mam:.2e}")
    print(f"max |removal effect diff| vs ChannelAttribution (simulated): {diff_ca:.2e}")


if __name__ == "__main__":
    main()
