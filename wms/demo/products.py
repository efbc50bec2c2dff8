"""The demo catalog: realistic products with valid EAN-13 barcodes from the GS1 in-store prefix (200-299)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


def ean13_check_digit(first12: str) -> str:
    """The GS1 check digit of the first 12 digits of an EAN-13."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"an EAN-13 body is 12 digits, not {first12!r}")
    # From the right of the body, weights alternate 3, 1, ...; for 12 digits that is 1, 3, 1, 3 from the left.
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def ean13(first12: str) -> str:
    """A complete EAN-13: the 12 digits given and their check digit."""
    return first12 + ean13_check_digit(first12)


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == code[12]


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    weight_g: int
    dims_mm: tuple[int, int, int]
    zone: str  # rack zone holding its pick lane: A fast movers, B slow movers
    units: int  # units put in its pick lane by the seed
    hs_code: str | None = None  # customs data for the CN23 of parcels leaving the EU
    origin_country: str | None = None
    customs_value: Decimal | None = None

    @property
    def barcode(self) -> str:
        return ean13(f"2{int(self.sku.rsplit('-', 1)[1]):011d}")


_ROWS: list[tuple[str, int, tuple[int, int, int], str, int]] = [
    ("Stainless steel water bottle 750 ml", 340, (75, 75, 270), "A", 48),
    ("Ceramic coffee mug 350 ml, white", 360, (120, 90, 100), "A", 60),
    ("Organic green tea, 20 bags", 60, (130, 70, 60), "A", 120),
    ("Crème de marrons 250 g", 290, (80, 80, 90), "A", 36),
    ("Café ^XZ^XA~JA_x", 260, (90, 60, 150), "A", 24),
    ("Dark chocolate 70 % 100 g", 105, (160, 80, 10), "A", 144),
    ("Sparkling mineral water 6 x 1 l", 6200, (240, 160, 310), "A", 18),
    ("Bamboo toothbrush, medium", 18, (190, 20, 15), "A", 200),
    ("Sunflower oil 1 l", 960, (85, 85, 290), "A", 30),
    ("Basmati rice 1 kg", 1010, (200, 120, 60), "A", 40),
    ("Spaghetti n°5, 500 g", 510, (290, 70, 30), "A", 80),
    ("Crushed tomatoes 400 g", 440, (75, 75, 110), "A", 96),
    ("Dishwasher tablets, 40 pieces", 720, (200, 130, 110), "A", 24),
    ("Paper towels, 2 rolls", 300, (230, 120, 230), "A", 30),
    ("AA alkaline batteries, 4 pack", 100, (90, 60, 15), "A", 150),
    ("USB-C charging cable 1 m", 45, (150, 80, 20), "A", 90),
    ("Wireless mouse, black", 85, (110, 65, 40), "A", 25),
    ("Notebook A5, dotted, 96 pages", 210, (210, 148, 10), "A", 70),
    ("Ballpoint pens, blue, 10 pack", 90, (160, 70, 15), "A", 110),
    ("Hand soap 300 ml", 330, (70, 50, 180), "A", 45),
    ("Shampoo for dry hair 250 ml", 280, (65, 45, 190), "A", 40),
    ("Sun cream SPF 50, 200 ml", 230, (60, 40, 170), "A", 35),
    ("Rooibos & vanilla infusion, 20 bags", 50, (130, 70, 60), "A", 60),
    ("Wholegrain crackers 250 g", 260, (200, 100, 50), "A", 50),
    ("Porcelain espresso cups, set of 2", 330, (150, 80, 70), "B", 12),
    ("Cast-iron frying pan 28 cm", 2600, (480, 290, 60), "B", 8),
    ("Chef's knife 20 cm", 210, (330, 50, 25), "B", 10),
    ("Cotton bath towel 70 x 140 cm, grey", 520, (300, 200, 80), "B", 16),
    ("LED desk lamp, dimmable", 780, (200, 160, 120), "B", 9),
    ("Wool socks, size 39-42", 90, (200, 100, 30), "B", 40),
    ("Yoga mat 6 mm", 1100, (610, 150, 150), "B", 6),
    ("Bicycle pump with gauge", 900, (600, 120, 90), "B", 7),
    ("Garden gloves, size M", 120, (250, 130, 30), "B", 30),
    ("Jigsaw puzzle 1000 pieces", 680, (370, 270, 55), "B", 11),
    ("Board game: Les Aventuriers du Rail", 1750, (400, 300, 80), "B", 5),
    ("Headphones, over-ear, wireless", 280, (200, 180, 90), "B", 8),
    ("Smart plug, Wi-Fi", 95, (90, 70, 70), "B", 20),
    ("Kids' raincoat, size 6 years", 310, (300, 250, 40), "B", 14),
    ("Glass food containers, 3 pieces", 1450, (260, 200, 120), "B", 10),
    ("Scented candle: fleur d'oranger", 330, (85, 85, 95), "B", 18),
]

# Customs data, row by row: the HS code (6 digits, the international part), the country of origin and the value
# of one unit in EUR, plausible for each article above.
_CUSTOMS: list[tuple[str, str, str]] = [
    ("732393", "CN", "12.90"), ("691200", "PT", "6.50"), ("090210", "CN", "3.20"), ("200799", "FR", "4.10"),
    ("090121", "CO", "5.90"), ("180632", "BE", "2.40"), ("220110", "FR", "3.60"), ("960321", "CN", "2.50"),
    ("151219", "FR", "2.80"), ("100630", "IN", "3.10"), ("190219", "IT", "1.20"), ("200210", "IT", "1.10"),
    ("340220", "DE", "6.90"), ("481820", "FR", "2.20"), ("850610", "CN", "4.50"), ("854442", "CN", "7.90"),
    ("847160", "CN", "14.90"), ("482010", "FR", "3.40"), ("960810", "FR", "2.90"), ("340130", "FR", "2.60"),
    ("330510", "FR", "3.80"), ("330499", "FR", "9.90"), ("121190", "ZA", "3.40"), ("190590", "FR", "2.10"),
    ("691110", "PT", "11.50"), ("732391", "FR", "39.00"), ("821192", "DE", "24.90"), ("630260", "PT", "12.00"),
    ("940521", "CN", "29.90"), ("611594", "IT", "8.50"), ("950691", "CN", "15.90"), ("841420", "TW", "18.00"),
    ("611610", "CN", "3.90"), ("950300", "DE", "12.90"), ("950490", "FR", "34.90"), ("851830", "CN", "49.00"),
    ("853650", "CN", "12.50"), ("621040", "BD", "16.00"), ("701349", "FR", "14.50"), ("340600", "FR", "9.90"),
]
assert len(_CUSTOMS) == len(_ROWS)

DEMO_PRODUCTS: tuple[DemoProduct, ...] = tuple(
    DemoProduct(sku=f"DEMO-{i:03d}", name=name, weight_g=weight, dims_mm=dims, zone=zone, units=units,
                hs_code=hs, origin_country=origin, customs_value=Decimal(value))
    for i, ((name, weight, dims, zone, units), (hs, origin, value)) in enumerate(zip(_ROWS, _CUSTOMS, strict=True),
                                                                                start=1)
)
