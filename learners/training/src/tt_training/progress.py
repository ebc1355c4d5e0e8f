"""What fit() shows while it runs: one tqdm bar for the whole run and one line per record.

The bar counts optimizer steps (`epoch k/N` and the run's ETA by epochs); an evaluation inside
fit() counts its batches in the bar's postfix instead of opening a second bar.
"""

from tqdm.auto import tqdm


def lr_text(first, last):
    """The summary line's rate: the period's last step's (`last`, what the bar showed last),
    with the first step's (`first`, the record's `lr`) beside it, labelled, when they differ;
    `last` None (no step in the period): `first` alone."""
    if last is None or f"{last:.2e}" == f"{first:.2e}":
        return f"lr {first:.2e}"
    return f"lr {last:.2e} at the last step ({first:.2e} at the first)"


def counted(loader, bar, name, show):
    """The batches of `loader`, counted as `<name> i/n` (n when the loader has a length) after
    the postfix of the run's `bar`, which gets its postfix back at the end; with no bar (outside
    fit), on a bar of their own, shown when `show`."""
    if bar is None:
        yield from tqdm(loader, desc=name, leave=False, disable=not show)
        return
    if bar.disable:
        yield from loader
        return
    shown, of = bar.postfix, f"/{len(loader)}" if hasattr(loader, "__len__") else ""
    for i, batch in enumerate(loader, 1):
        bar.set_postfix_str(", ".join(filter(None, (shown, f"{name} {i}{of}"))))
        yield batch
    bar.set_postfix_str(shown or "")  # the last step's loss and lr again
