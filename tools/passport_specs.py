"""Passport photo specifications of 37 countries, as data (used by tools/passport_photo.py).

Each spec gives the printed photo's size, the head height (chin to crown) and the eye line
(the line through the eye centres, measured up from the bottom edge) as millimetre ranges,
the background colour, and where the numbers come from. Codes are ISO 3166-1 alpha-2,
lower case (Hong Kong and Taiwan issue their own travel documents and have codes).

Where an authority prints a size and a background but no head or eye numbers, the gaps are
filled from the international template its document follows, and `source` says so:

- ICAO: ICAO Doc 9303 / the Schengen template for a 35x45 mm photo: head 32-36 mm
  (about 70-80 % of the photo height); for other sizes 70-80 % of the height.
- ISO eyes: ISO/IEC 19794-5 (Annex A): the eye line 50-70 % of the height from the bottom.

Values were compiled in 2024 from the authorities' published photo rules (where only a
photo service republishes a rule, `source` says "as published by photo services"); rules
change: check the authority before printing for an application.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

MM_PER_INCH = 25.4
WHITE = "#ffffff"
LIGHT_GREY = "#e6e6e6"  # "light grey": the tint used where an authority asks for one


@dataclass(frozen=True)
class PhotoSpec:
    """One country's printed passport photo; lengths in millimetres.

    `head_mm` is chin to crown (top of the head); `eyes_mm` the eye line's height above
    the bottom edge; `top_mm` the space above the crown where the authority gives one.
    """

    code: str
    name: str
    width_mm: float
    height_mm: float
    head_mm: tuple[float, float]
    eyes_mm: tuple[float, float]
    background: str
    background_name: str
    source: str
    top_mm: tuple[float, float] | None = None
    dpi: int = 300

    def describe(self) -> dict[str, object]:
        """The spec as JSON (for the tool's extras and its settings schema)."""
        return {
            "code": self.code,
            "name": self.name,
            "sizeMm": [self.width_mm, self.height_mm],
            "headMm": list(self.head_mm),
            "eyeLineMm": [round(v, 2) for v in self.eyes_mm],
            "topMarginMm": list(self.top_mm) if self.top_mm else None,
            "background": self.background,
            "backgroundName": self.background_name,
            "dpi": self.dpi,
            "source": self.source,
        }


def _iso_eyes(height_mm: float) -> tuple[float, float]:
    """ISO/IEC 19794-5: the eye line 50-70 % of the photo height from the bottom."""
    return (round(0.5 * height_mm, 2), round(0.7 * height_mm, 2))


def _spec(
    code: str,
    name: str,
    size: tuple[float, float],
    head: tuple[float, float] | None,
    background: str,
    source: str,
    *,
    eyes: tuple[float, float] | None = None,
    top: tuple[float, float] | None = None,
) -> PhotoSpec:
    """A spec; `head` None means ICAO's 70-80 % of the height, `eyes` None ISO's 50-70 %."""
    width, height = size
    if head is None:
        head = (round(0.7 * height, 2), round(0.8 * height, 2))
    grey = background == LIGHT_GREY
    return PhotoSpec(
        code=code,
        name=name,
        width_mm=width,
        height_mm=height,
        head_mm=head,
        eyes_mm=eyes or _iso_eyes(height),
        background=background,
        background_name="light grey" if grey else "white",
        source=source,
        top_mm=top,
    )


_ICAO_35X45 = (32.0, 36.0)
_IN = MM_PER_INCH

SPECS: tuple[PhotoSpec, ...] = (
    # --- the Americas --------------------------------------------------------------------
    _spec(
        "us",
        "United States",
        (2 * _IN, 2 * _IN),
        (1 * _IN, 1.375 * _IN),
        WHITE,
        "U.S. Department of State (travel.state.gov, photo requirements): 2x2 in, head "
        "1-1 3/8 in chin to top of head, eyes 1 1/8-1 3/8 in from the bottom, white or "
        "off-white background",
        eyes=(1.125 * _IN, 1.375 * _IN),
    ),
    _spec(
        "ca",
        "Canada",
        (50, 70),
        (31, 36),
        WHITE,
        "IRCC / Passport Canada: 50x70 mm, chin to crown 31-36 mm, plain white or light "
        "background; eye line: ISO eyes",
    ),
    _spec(
        "mx",
        "Mexico",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "SRE consular offices: passport size 3.5x4.5 cm, white background; head: ICAO; "
        "eye line: ISO eyes",
    ),
    # --- Europe --------------------------------------------------------------------------
    _spec(
        "gb",
        "United Kingdom",
        (35, 45),
        (29, 34),
        LIGHT_GREY,
        "HM Passport Office (gov.uk photos for passports): 35x45 mm, head 29-34 mm chin to "
        "crown, plain cream or light grey background; eye line: ISO eyes",
    ),
    _spec(
        "ie",
        "Ireland",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "Irish Passport Service: 35x45 mm, plain white or light grey background; head: "
        "ICAO; eye line: ISO eyes",
    ),
    _spec(
        "de",
        "Germany",
        (35, 45),
        _ICAO_35X45,
        LIGHT_GREY,
        "Bundesdruckerei Fotomustertafel: 35x45 mm, head 32-36 mm chin to crown, plain "
        "light background (ideally light grey); eye line: ISO eyes",
    ),
    _spec(
        "fr",
        "France",
        (35, 45),
        _ICAO_35X45,
        LIGHT_GREY,
        "ANTS / service-public.fr: 35x45 mm, face 32-36 mm chin to top of head, plain "
        "light background (light blue or light grey), white not allowed; eye line: ISO eyes",
    ),
    _spec(
        "it",
        "Italy",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "Polizia di Stato (passaporto): 35x45 mm, plain light background, preferably "
        "white; head: ICAO; eye line: ISO eyes",
    ),
    _spec(
        "es",
        "Spain",
        (26, 32),
        None,
        WHITE,
        "Policia Nacional (DNI and passport): 32x26 mm, plain white background; head: "
        "ICAO 70-80 % of the height; eye line: ISO eyes",
    ),
    _spec(
        "nl",
        "Netherlands",
        (35, 45),
        (26, 30),
        LIGHT_GREY,
        "RvIG Fotomatrix 2020: 35x45 mm, chin to crown 26-30 mm from age 11, plain light "
        "background (light grey); eye line: ISO eyes",
    ),
    _spec(
        "be",
        "Belgium",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "FPS Foreign Affairs / ICAO photo matrix: 35x45 mm, plain light background "
        "(white); head: ICAO; eye line: ISO eyes",
    ),
    _spec(
        "at",
        "Austria",
        (35, 45),
        _ICAO_35X45,
        LIGHT_GREY,
        "BMI Passbildkriterien: 35x45 mm, plain light background; head: ICAO; eye line: ISO eyes",
    ),
    _spec(
        "ch",
        "Switzerland",
        (35, 45),
        _ICAO_35X45,
        LIGHT_GREY,
        "fedpol (schweizerpass.admin.ch): 35x45 mm, plain light neutral background "
        "(ideally grey); head: ICAO; eye line: ISO eyes",
    ),
    _spec(
        "pl",
        "Poland",
        (35, 45),
        None,
        WHITE,
        "gov.pl (zdjecie do dowodu i paszportu): 35x45 mm, face 70-80 % of the photo, "
        "plain light background; eye line: ISO eyes",
    ),
    _spec(
        "gr",
        "Greece",
        (40, 60),
        (31, 35),
        WHITE,
        "Hellenic Police passport photo rules, as published by photo services: 40x60 mm, "
        "chin to top of head 31-35 mm, eyes 30-39 mm from the bottom, white background",
        eyes=(30, 39),
    ),
    _spec(
        "fi",
        "Finland",
        (36, 47),
        _ICAO_35X45,
        LIGHT_GREY,
        "Poliisi passport photo instructions: 36x47 mm (500x653 px), chin to top of head "
        "32-36 mm, 4-6 mm above the head, plain light background; eye line: ISO eyes",
        top=(4, 6),
    ),
    _spec(
        "ee",
        "Estonia",
        (40, 50),
        None,
        LIGHT_GREY,
        "Police and Border Guard Board: 40x50 mm, chin to top of head 70-80 % of the "
        "height, plain light background; eye line: ISO eyes",
    ),
    _spec(
        "cz",
        "Czech Republic",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "Ministry of the Interior: 35x45 mm, plain light background; head: ICAO; eye "
        "line: ISO eyes",
    ),
    _spec(
        "dk",
        "Denmark",
        (35, 45),
        _ICAO_35X45,
        LIGHT_GREY,
        "Danish police / lifeindenmark.dk: 35x45 mm, plain light grey background; head: "
        "ICAO; eye line: ISO eyes",
    ),
    _spec(
        "pt",
        "Portugal",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "IRN / Portuguese consulates: 35x45 mm, plain white background; head: ICAO; eye "
        "line: ISO eyes",
    ),
    _spec(
        "ru",
        "Russia",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "MVD rules for the foreign passport: 35x45 mm, face oval 70-80 % of the height, "
        "white background; head: ICAO; eye line: ISO eyes",
    ),
    _spec(
        "ua",
        "Ukraine",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "State Migration Service: 35x45 mm, ICAO-conformant, plain light background; "
        "head: ICAO; eye line: ISO eyes",
    ),
    _spec(
        "tr",
        "Turkey",
        (50, 60),
        (32, 36),
        WHITE,
        "Turkish MFA / Interior Ministry: biometric 50x60 mm, plain white background; "
        "head 32-36 mm as published by photo services; eye line: ISO eyes",
    ),
    # --- Asia ----------------------------------------------------------------------------
    _spec(
        "cn",
        "China",
        (33, 48),
        (28, 33),
        WHITE,
        "China visa/passport photo rules (Chinese embassies): 33x48 mm, head 28-33 mm "
        "chin to crown, 3-5 mm above the head, white background; eye line: ISO eyes",
        top=(3, 5),
    ),
    _spec(
        "jp",
        "Japan",
        (35, 45),
        (32, 36),
        WHITE,
        "MOFA Japan passport photo standard: 35x45 mm, face 34 +/- 2 mm chin to crown, "
        "4 +/- 2 mm above the head, plain background; eye line: ISO eyes",
        top=(2, 6),
    ),
    _spec(
        "kr",
        "South Korea",
        (35, 45),
        (32, 36),
        WHITE,
        "MOFA Korea (passport.go.kr): 35x45 mm, head 3.2-3.6 cm chin to crown, white "
        "background; eye line: ISO eyes",
    ),
    _spec(
        "in",
        "India",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "Passport Seva: 4.5x3.5 cm, white background, face about 80 % of the photo; head: "
        "ICAO; eye line: ISO eyes",
    ),
    _spec(
        "sg",
        "Singapore",
        (35, 45),
        (25, 35),
        WHITE,
        "ICA photo guidelines: 35x45 mm (400x514 px), plain white background; head 25-35 "
        "mm chin to crown as published by photo services; eye line: ISO eyes",
    ),
    _spec(
        "ph",
        "Philippines",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "DFA: passport size 3.5x4.5 cm, white background; head: ICAO; eye line: ISO eyes",
    ),
    _spec(
        "hk",
        "Hong Kong",
        (40, 50),
        (32, 36),
        WHITE,
        "Immigration Department (immd.gov.hk): 40x50 mm, chin to crown 32-36 mm, plain "
        "white background; eye line: ISO eyes",
    ),
    _spec(
        "tw",
        "Taiwan",
        (35, 45),
        (32, 36),
        WHITE,
        "Bureau of Consular Affairs: 35x45 mm, head 3.2-3.6 cm chin to crown, white "
        "background; eye line: ISO eyes",
    ),
    _spec(
        "pk",
        "Pakistan",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "DGI&P / Pakistani missions: 35x45 mm, white background; head: ICAO; eye line: ISO eyes",
    ),
    _spec(
        "il",
        "Israel",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "Population and Immigration Authority: 35x45 mm, plain white background; head: "
        "ICAO; eye line: ISO eyes",
    ),
    # --- Oceania and Africa ----------------------------------------------------------------
    _spec(
        "au",
        "Australia",
        (35, 45),
        (32, 36),
        WHITE,
        "Australian Passport Office: 35-40 x 45-50 mm (35x45 here), face 32-36 mm chin to "
        "crown, plain white or light grey background; eye line: ISO eyes",
    ),
    _spec(
        "nz",
        "New Zealand",
        (35, 45),
        (32, 36),
        WHITE,
        "DIA passports: 35x45 mm, plain light background; head: ICAO; eye line: ISO eyes",
    ),
    _spec(
        "za",
        "South Africa",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "Department of Home Affairs: 35x45 mm, plain white background; head: ICAO; eye "
        "line: ISO eyes",
    ),
    _spec(
        "ng",
        "Nigeria",
        (35, 45),
        _ICAO_35X45,
        WHITE,
        "Nigeria Immigration Service: 35x45 mm, plain white background; head: ICAO; eye "
        "line: ISO eyes",
    ),
)


@cache
def by_code() -> dict[str, PhotoSpec]:
    """The specs by lower-case ISO code; fails loudly on a duplicate."""
    found: dict[str, PhotoSpec] = {}
    for spec in SPECS:
        if spec.code in found:
            raise ValueError(f"passport spec {spec.code!r} listed twice")
        found[spec.code] = spec
    return found


def codes() -> list[str]:
    """Every country code, in the listed order."""
    return [spec.code for spec in SPECS]
