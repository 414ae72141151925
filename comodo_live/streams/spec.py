"""How a user names an LSL stream, as LabRecorder users expect: by ``source_id``, or by name,
type and hostname.

``"my-imu"`` is a source_id (the old form, kept); ``"type=IMU,name=MyIMU"`` matches every
property given (keys: ``name``, ``type``, ``source_id``, ``hostname``). No pylsl here: the
config validates specs without loading LSL.
"""

from __future__ import annotations

from dataclasses import dataclass

SPEC_KEYS = ("name", "type", "source_id", "hostname")


@dataclass(frozen=True)
class StreamSpec:
    """Properties one stream must have (empty: not constrained).

    Attributes:
        name: LSL stream name.
        type: LSL content type, e.g. ``"IMU"``, ``"Markers"``.
        source_id: the publisher's unique source id.
        hostname: the machine that publishes it.
    """

    name: str = ""
    type: str = ""
    source_id: str = ""
    hostname: str = ""

    @property
    def properties(self) -> dict[str, str]:
        """The constrained properties, in :data:`SPEC_KEYS` order."""
        return {key: getattr(self, key) for key in SPEC_KEYS if getattr(self, key)}

    @property
    def predicate(self) -> str:
        """The LSL (XPath) predicate matching these properties, e.g. ``type='IMU' and name='X'``."""
        return " and ".join(f"{key}='{value}'" for key, value in self.properties.items())

    def __str__(self) -> str:
        return ",".join(f"{key}={value}" for key, value in self.properties.items())


def parse_stream_spec(text: str, what: str = "stream") -> StreamSpec:
    """A :class:`StreamSpec` from ``"SOURCE_ID"`` or ``"key=value,key=value"``.

    Args:
        text: the spec as written in the config or on the command line.
        what: the setting it came from, for error messages (e.g. ``"imu.source"``).

    Raises:
        ValueError: empty spec, unknown key, empty value, a key given twice, or a quote.
    """
    text = text.strip()
    if not text:
        raise ValueError(
            f"{what} = {text!r} is invalid; give a source_id or e.g. 'type=IMU,name=X'"
        )
    if "'" in text or '"' in text:
        raise ValueError(f"{what} = {text!r} is invalid; stream properties must not contain quotes")
    if "=" not in text:
        return StreamSpec(source_id=text)
    values: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = (s.strip() for s in part.partition("="))
        if not sep or key not in SPEC_KEYS or not value:
            raise ValueError(
                f"{what} = {text!r} is invalid at {part.strip()!r}; valid: key=value pairs "
                f"joined by ',' with keys {list(SPEC_KEYS)}, e.g. 'type=IMU,name=MyIMU'"
            )
        if key in values:
            raise ValueError(f"{what} = {text!r} gives {key!r} twice")
        values[key] = value
    return StreamSpec(**values)
