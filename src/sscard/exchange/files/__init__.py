"""Batch card-making files (批量制卡文件): signed packages of CSV rows and photos.

Design overview
===============

Every file of the batch cycle travels as a *package*, one ZIP file::

    manifest.json        what the package is: format and version, batch number, sender,
                         recipient, creation time, row count, columns, the size and SM3 of
                         rows.csv, the number and total size of the photos, the signing key
    manifest.sig         the sender's SM2 signature (DER, user id 1234567812345678) over the
                         exact bytes of manifest.json
    rows.csv             the rows: UTF-8 (GB18030 accepted on input), a header line of column
                         names (人社 indicator names where they exist), CRLF line ends
    photos/00000001.jpg  formats with photos: one JPEG per row, named by its SEQ; the row's
                         PHOTO column names it and PHOTO_SM3 carries its SM3

The manifest's SM3 of rows.csv covers every row's PHOTO_SM3, so the one signature covers
every member: manifest -> rows.csv -> each photo. :func:`.reader.open_package` checks all of it
(signature, digests, sizes, row count, columns, photos, no member too many or missing)
before a single row is used, and refuses the package whole with the reason
(:class:`PackageRejected`).

:class:`.writer.PackageWriter` streams: rows go to a temporary file, photos straight into the ZIP
(stored, not compressed: JPEG does not shrink), so memory stays bounded whatever the size
of the batch; rows.csv, the manifest and the signature are added last.

For transfer, a package may be wrapped whole in SM4-GCM (:mod:`.transfer`): a header
naming the transfer key, then 1 MiB chunks each sealed with its index and a final flag in
the associated data, so that a chunk changed, reordered, dropped or cut off is refused.

Formats and every column are documented in ``docs/formats.md``; keep the two together.

Modules: :mod:`.formats` (every file format and its columns: a table), :mod:`.manifest`
(the manifest, SM3, signers and verifiers), :mod:`.writer` and :mod:`.reader` (packages),
:mod:`.transfer` (SM4-GCM transfer encryption and key files), :mod:`.partykeys` (signing
keys kept on disk, as the peers keep them), :mod:`.citykeys` (the city's keys, in the key
store) and :mod:`.service` (batch card making with the province, as issuance calls it).
All but the last two are pure file I/O, without a database.
"""
