"""Cell classes of a dataset and their grouping into normal, benign and abnormal.

SIPaKMeD's five classes are the default. Imported datasets bring their own (Herlev
has seven, ISBI 2014 has one). Where metaplastic cells go in a two-class scheme
differs between publications, so it is a setting of the dataset, not a constant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GROUPS = ("normal", "benign", "abnormal")


@dataclass(frozen=True)
class CellClass:
    """One class: its name, the folder that holds its images, its group."""

    name: str
    folder: str
    group: str
    display_name: str = ""

    @property
    def label(self) -> str:
        return self.display_name or self.name.replace("-", " ").capitalize()

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "folder": self.folder,
            "group": self.group,
            "display_name": self.display_name,
        }

    @classmethod
    def from_json(cls, data: dict) -> CellClass:
        group = data.get("group", "normal")
        if group not in GROUPS:
            raise ValueError(f"unknown group {group!r}; use one of {GROUPS}")
        return cls(
            name=str(data["name"]),
            folder=str(data.get("folder") or f"im_{data['name']}"),
            group=group,
            display_name=str(data.get("display_name", "")),
        )


SIPAKMED_CLASSES = (
    CellClass(
        "superficial-intermediate",
        "im_Superficial-Intermediate",
        "normal",
        "Superficial-intermediate",
    ),
    CellClass("parabasal", "im_Parabasal", "normal", "Parabasal"),
    CellClass("metaplastic", "im_Metaplastic", "benign", "Metaplastic"),
    CellClass("koilocytotic", "im_Koilocytotic", "abnormal", "Koilocytotic"),
    CellClass("dyskeratotic", "im_Dyskeratotic", "abnormal", "Dyskeratotic"),
)


@dataclass(frozen=True)
class ClassScheme:
    """The classes of a dataset, and where benign cells go when only two are used."""

    classes: tuple[CellClass, ...] = SIPAKMED_CLASSES
    benign_in_two_class: str = "normal"  # "normal" or "abnormal"
    names: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(c.name for c in self.classes))
        if self.benign_in_two_class not in ("normal", "abnormal"):
            raise ValueError("benign cells go to 'normal' or 'abnormal'")

    def by_name(self, name: str) -> CellClass:
        for cell_class in self.classes:
            if cell_class.name == name:
                return cell_class
        raise KeyError(name)

    def by_folder(self, folder: str) -> CellClass | None:
        """The class of an `im_<Class>` or `<Class>` folder, matching case-blind."""
        wanted = folder.lower()
        for cell_class in self.classes:
            candidates = {cell_class.folder.lower(), cell_class.name.lower()}
            bare = cell_class.folder.lower().removeprefix("im_")
            candidates.update({bare, f"im_{bare}"})
            if wanted in candidates:
                return cell_class
        return None

    def group_of(self, name: str) -> str:
        return self.by_name(name).group

    def two_class_of(self, name: str) -> str:
        group = self.group_of(name)
        if group == "benign":
            return self.benign_in_two_class
        return group

    def target(self, name: str, scheme: str) -> str:
        """The label of a class under a scheme: '5' (or 'all'), '3' or '2'."""
        if scheme in ("5", "all"):
            return name
        if scheme == "3":
            return self.group_of(name)
        if scheme == "2":
            return self.two_class_of(name)
        raise ValueError(f"unknown class scheme {scheme!r}; use all, 3 or 2")

    def target_names(self, scheme: str) -> tuple[str, ...]:
        if scheme in ("5", "all"):
            return self.names
        if scheme == "3":
            return tuple(g for g in GROUPS if any(c.group == g for c in self.classes))
        if scheme == "2":
            return ("normal", "abnormal")
        raise ValueError(f"unknown class scheme {scheme!r}; use all, 3 or 2")

    def is_abnormal(self, name: str) -> bool:
        return self.group_of(name) == "abnormal"

    def to_json(self) -> dict:
        return {
            "classes": [c.to_json() for c in self.classes],
            "benign_in_two_class": self.benign_in_two_class,
        }

    @classmethod
    def from_json(cls, data: dict) -> ClassScheme:
        return cls(
            classes=tuple(CellClass.from_json(c) for c in data["classes"]),
            benign_in_two_class=data.get("benign_in_two_class", "normal"),
        )
