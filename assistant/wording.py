"""How the assistant says things: prices, lists and the basket read-back.

Sentences are short so they read well in a text message and sound natural
when spoken on the phone.
"""

from __future__ import annotations

from assistant.basket import BasketLine, basket_total
from assistant.catalogue import Product


def money(pence: int) -> str:
    """ "£1.45", "45p", "£3"."""
    if pence < 100:
        return f"{pence}p"
    pounds, pennies = divmod(pence, 100)
    return f"£{pounds:,}" if pennies == 0 else f"£{pounds:,}.{pennies:02d}"


def join_words(items: list[str], last: str = "and") -> str:
    """ "a, b and c"."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def describe_product(product: Product, quantity: int = 1) -> str:
    """ "2 Semi-Skimmed Milk (2 pints)": the size in brackets, so that a list of
    products reads as a list and not as a run of commas."""
    return f"{quantity} {product.name} ({product.size})"


def item_count(lines: list[BasketLine]) -> int:
    return sum(line.quantity for line in lines)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def basket_summary(lines: list[BasketLine]) -> str:
    """ "Your basket has 3 items, £4.05 in all."""
    if not lines:
        return "Your basket is empty."
    return (
        f"Your basket has {plural(item_count(lines), 'item')}, "
        f"{money(basket_total(lines))} in all."
    )


def read_back(lines: list[BasketLine]) -> list[str]:
    """The basket line by line, then the total: one short sentence each."""
    if not lines:
        return [
            "Your basket is empty. Tell me what you would like, for example "
            '"two pints of milk and a loaf".'
        ]
    sentences = [f"In your basket, {plural(item_count(lines), 'item')}:"]
    for line in lines:
        sentences.append(
            f"{describe_product(line.product, line.quantity)}: "
            f"{money(line.total_pence)}."
        )
    sentences.append(f"That comes to {money(basket_total(lines))}.")
    return sentences
