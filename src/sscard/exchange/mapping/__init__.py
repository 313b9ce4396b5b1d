"""Entity mappings between systems (seed 004: 单位、街道/社区、卡类型) and unresolved codes.

Design overview
===============

The province card system (省卡管) and the city medical-insurance system code employers,
streets/communities and card types their own way, and their codes do not match ours.
Unlike the small code sets of :mod:`sscard.exchange.translation` (gender, ethnicity),
these are *entities*: thousands of employers, hundreds of communities, appearing and
changing every week. So they are kept as rows, not as cached translators:

- ``exchange_entity_mapping``: for one system and kind, our code and the system's code,
  one to one (our code is the primary key; the system's code is unique). Our code of an
  employer is its unified social credit code (统一社会信用代码), of a community its
  community code, of a card type the card generation (``2``, ``3``).
- ``exchange_unresolved_code``: every code an export or import met without a counterpart,
  with the batch or file it came from, how often it was met, and (for employers) a likely
  counterpart found by credit code. A clerk resolves it by naming the counterpart, which
  writes the mapping and closes every open entry the mapping answers; or ignores it.

Lookups are by the codes of one chunk of a file (``IN`` queries), so memory stays bounded
however large the tables grow. Services flush and never commit.

Modules: :mod:`.service` (read it first), :mod:`.schemas`, :mod:`.repository` (every
query), :mod:`.models`.
"""
