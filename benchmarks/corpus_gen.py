"""Generate a varied synthetic news corpus (deterministic): many topics, people, places and numbers.

Each article is 350-900 words built from a few hundred sentence templates filled with
different entities, so no two articles are alike and BM25/dense retrieval see realistic
vocabulary spread. Not the same article copied.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

FIRST = "Anna Ben Carla David Elena Farid Grace Hugo Ines Jonas Kiran Lena Marco Nadia Omar Petra Quinn Rosa Samir Tomas Uma Victor Wanda Xavier Yara Zoltan".split()
LAST = "Alvarez Brandt Chen Dubois Eriksen Fischer Garcia Haddad Ivanova Jensen Kowalski Larsen Moreau Novak Okafor Petrov Quinlan Rossi Silva Tanaka Ueda Varga Weber Yilmaz Zhang".split()
PLACES = "Lisbon Gdansk Tampere Valencia Porto Brno Ghent Lyon Turin Malmo Bergen Cork Split Riga Tartu Kosice Graz Basel Leipzig Utrecht Aarhus Bilbao Seville Krakow Vilnius".split()
TOPICS = {
    "transport": ("tram line", "ferry route", "rail tunnel", "bus depot", "cycle network", "airport terminal"),
    "health": ("hospital wing", "vaccination drive", "clinic", "ambulance service", "mental health programme"),
    "energy": ("wind farm", "solar park", "heat pump subsidy", "grid upgrade", "battery plant"),
    "education": ("school merger", "university campus", "teacher contract", "library", "apprenticeship scheme"),
    "housing": ("housing estate", "rent cap", "social housing plan", "renovation grant", "zoning reform"),
    "culture": ("film festival", "museum extension", "concert hall", "book fair", "theatre season"),
    "economy": ("port expansion", "tax reform", "factory closure", "start-up fund", "trade agreement"),
    "environment": ("river clean-up", "flood barrier", "forest reserve", "air quality plan", "recycling scheme"),
    "sport": ("stadium", "marathon", "youth league", "swimming pool", "cycling race"),
    "technology": ("data centre", "broadband rollout", "chip plant", "digital ID system", "satellite project"),
}
ROLES = "mayor minister spokesperson councillor director economist union leader engineer professor inspector".split()
TEMPLATES = [
    "{person}, the city's {role}, said the {thing} in {place} would cost {money} and open in {year}.",
    "Officials in {place} approved the {thing} on {weekday} after {n} hours of debate.",
    "Critics argue the {thing} favours {place} over smaller towns, a claim {person} rejected.",
    "According to {person}, about {n} jobs depend on the {thing}.",
    "The {thing} was first proposed in {year} but stalled over a dispute about {topic} funding.",
    "Residents of {place} collected {n} signatures against the {thing} within {m} weeks.",
    "{person} warned that delays to the {thing} could add {money} to the final bill.",
    "A report by the {place} auditor found that {pct} percent of the {topic} budget went unspent last year.",
    'The {role} {person} described the {thing} as "the most important {topic} decision in a generation".',
    "Construction of the {thing} is expected to take {m} years, with the first phase finished by {month} {year}.",
    "In a letter to the council, {person} asked for an independent review of the {thing}.",
    "Neighbouring {place2} signed a similar agreement on {topic} in {year2}, officials noted.",
    "Only {pct} percent of those surveyed in {place} said they had heard of the {thing}.",
    "The opposition, led by {person}, has promised to cancel the {thing} if it wins the {year} election.",
    "Engineers said the {thing} would cut emissions in {place} by {pct} percent.",
    "{person} and {person2} met in {place2} on {weekday} to discuss the {thing}.",
]
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = "January February March April May June July August September October November December".split()


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def article(i: int, rng: random.Random) -> tuple[str, str]:
    """Return (title, markdown body) of article number i."""
    topic = rng.choice(sorted(TOPICS))
    thing = rng.choice(TOPICS[topic])
    place = rng.choice(PLACES)
    title = f"{place} {rng.choice(['backs', 'delays', 'debates', 'rejects', 'funds'])} {thing} plan ({i})"
    paragraphs = []
    for _ in range(rng.randint(5, 12)):
        sentences = []
        for _ in range(rng.randint(2, 5)):
            t = rng.choice(TEMPLATES)
            sentences.append(
                t.format(
                    person=_person(rng),
                    person2=_person(rng),
                    role=rng.choice(ROLES),
                    thing=thing,
                    place=place,
                    place2=rng.choice(PLACES),
                    topic=topic,
                    money=f"{rng.randint(2, 900)} million euros",
                    year=rng.randint(2019, 2031),
                    year2=rng.randint(2010, 2024),
                    n=rng.randint(3, 5000),
                    m=rng.randint(2, 11),
                    pct=rng.randint(3, 97),
                    weekday=rng.choice(WEEKDAYS),
                    month=rng.choice(MONTHS),
                )
            )
        paragraphs.append(" ".join(sentences))
    return title, "\n\n".join(paragraphs)


def generate(folder: Path, n: int, seed: int = 7) -> list[Path]:
    """Write n articles as Markdown with front matter; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        title, body = article(i, rng)
        path = folder / f"article-{i:06d}.md"
        path.write_text(f'---\ntitle: "{title}"\noutlet: Synthetic Herald\n---\n\n{body}\n', encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
    generate(args.folder, args.n)
