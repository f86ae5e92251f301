"""Write templates/fonts/: the DejaVu faces the reports use, cut to the characters they need.

    python docs/gen_report_fonts.py                       # from /usr/share/fonts/truetype/dejavu
    python docs/gen_report_fonts.py --source DIR          # from DejaVu TTFs in DIR

Why the reports ship their own fonts: WeasyPrint subsets every font of every PDF it writes.
With the system's full DejaVu (6,000 glyphs, 750 KB a face) and without the optional HarfBuzz
subsetting library, fontTools does that in Python, about half a second per face per PDF: most
of the time of a one-page coder report. These faces hold about 1,350 glyphs each (Latin with
every accented letter, Greek, Cyrillic, the punctuation and symbols of the reports), so that a
PDF can embed them whole (WeasyPrint's ``full_fonts``) with no subsetting at all, the same font
files in every PDF of a report set (about 55 KB compressed a face; audit_kit/reporting/pdf.py
decides when).

Kerning and mark positioning (the GPOS ``kern``, ``mark`` and ``mkmk`` features) are kept, so
that text is spaced as with the full fonts. Substitutions are not (``liga`` "fi"/"fl",
``ccmp`` dotless forms): the text map of a whole embedded font comes from its character map,
where the "fi" glyph is U+FB01, so "confidence" would copy and search as "con\ufb01dence". Every
glyph that text can be drawn with is one the character map names (checked here), so that text
extraction is exact. Hinting, which PDF viewers do not use, is dropped. A name with a letter
outside these faces (Hebrew, Arabic, CJK...) is drawn with the system's fonts, and that PDF is
subset as before.

The faces are DejaVu 2.37 (Bitstream Vera license, DejaVu changes in the public domain; see
templates/fonts/LICENSE.txt), unchanged except for the glyphs and tables removed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

OUT = Path(__file__).resolve().parent.parent / "templates" / "fonts"
SOURCE = Path("/usr/share/fonts/truetype/dejavu")

#: Face file names, as DejaVu names them: the regular, bold, oblique and bold oblique sans
#: (body text, headings, <em>), and the mono faces (codes, printouts).
FACES = (
    "DejaVuSans",
    "DejaVuSans-Bold",
    "DejaVuSans-Oblique",
    "DejaVuSans-BoldOblique",
    "DejaVuSansMono",
    "DejaVuSansMono-Bold",
)

#: The characters kept (inclusive ranges). Names: every Latin letter with its accents (Latin-1,
#: Extended-A and -B, Extended Additional for Vietnamese), combining marks (names stored
#: decomposed), Greek and Cyrillic. Rationale text: dashes, quotes, bullets, currency signs,
#: arrows, the comparison and arithmetic signs and the replacement character. The reports' own marks: the verdict shapes and check marks.
REPERTOIRE = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B
    (0x02B0, 0x02FF),  # spacing modifier letters
    (0x0300, 0x036F),  # combining diacritical marks
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x045F),  # Cyrillic (Russian, Ukrainian, Belarusian, Serbian, Bulgarian...)
    (0x1E00, 0x1EFF),  # Latin Extended Additional
    (0x2010, 0x2027),  # dashes, quotes, bullets, ellipsis
    (0x2030, 0x203A),  # per mille, primes, angle quotes
    (0x2044, 0x2044),  # fraction slash
    (0x2070, 0x208E),  # superscripts and subscripts
    (0x20A0, 0x20BF),  # currency signs
    (0x2113, 0x2113),  # script small l
    (0x2116, 0x2116),  # numero sign
    (0x2122, 0x2122),  # trade mark
    (0x2190, 0x2195),  # arrows
    (0x2212, 0x2212),  # minus
    (0x2215, 0x2215),  # division slash
    (0x221A, 0x221A),  # square root
    (0x221E, 0x221E),  # infinity
    (0x2248, 0x2248),  # almost equal
    (0x2260, 0x2260),  # not equal
    (0x2264, 0x2265),  # less / greater than or equal
    (0x25A0, 0x25A1),  # squares (verdict "below")
    (0x25B2, 0x25B3),  # triangles
    (0x25BC, 0x25BD),
    (0x25C6, 0x25C7),  # diamonds
    (0x25CB, 0x25CB),  # circle (verdict "inconclusive")
    (0x25CF, 0x25CF),  # black circle (verdict "meets")
    (0x2713, 0x2717),  # check and cross marks
    (0xFFFD, 0xFFFD),  # replacement character
)


def _options() -> subset.Options:
    options = subset.Options()
    options.hinting = False  # PDF viewers rasterise without TrueType hinting
    options.desubroutinize = True
    options.glyph_names = False
    options.notdef_outline = True  # a missing glyph shows as a box, not as nothing
    options.name_IDs = ["*"]  # keep the copyright and license records
    options.name_languages = ["*"]
    options.drop_tables += ["MATH", "FFTM"]
    # No ligatures or alternates: each glyph drawn is one character (see the module docstring).
    options.layout_features = ["kern", "mark", "mkmk"]
    return options


def _unmapped(font: TTFont) -> list[str]:
    """Glyphs that text can be drawn with but no character maps to (a whole embedded font could
    not say what text they are). Parts of composite glyphs are never drawn alone."""
    mapped = set(font.getBestCmap().values())
    glyf = font["glyf"]
    parts = {
        component.glyphName
        for name in font.getGlyphOrder()
        if glyf[name].isComposite()
        for component in glyf[name].components
    }
    return [g for g in font.getGlyphOrder() if g not in mapped | parts and g != ".notdef"]


def write_fonts(source: Path, out: Path) -> list[Path]:
    unicodes = [u for first, last in REPERTOIRE for u in range(first, last + 1)]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for face in FACES:
        font = TTFont(source / f"{face}.ttf")
        subsetter = subset.Subsetter(_options())
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        if unmapped := _unmapped(font):
            raise SystemExit(f"{face}: glyphs without a character: {', '.join(unmapped[:20])}")
        target = out / f"{face}.ttf"
        font.save(target)
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="folder of DejaVu TTFs")
    args = parser.parse_args()
    for path in write_fonts(args.source, OUT):
        print(f"{path.relative_to(OUT.parent.parent)}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
