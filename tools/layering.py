"""An import-linter contract for ARCHITECTURE.md rule 2: components reach each other only
through their service modules (and schemas, errors, events), never their models or
repositories, at any depth (``issuance.models`` and ``issuance.batches.models`` alike).
Listed once here instead of one contract per pair of components."""

from __future__ import annotations

from typing import Any

from importlinter import Contract, ContractCheck, fields, output


class ComponentBoundaries(Contract):
    """No module outside ``<root>.<component>`` imports a module of that component whose
    last name is one of ``internal``."""

    components = fields.ListField(subfield=fields.StringField())
    internal = fields.ListField(subfield=fields.StringField())

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        root = self.session_options["root_packages"][0]
        internal = set(self.internal)  # type: ignore[attr-defined]
        broken: list[dict[str, str]] = []
        for component in self.components:  # type: ignore[attr-defined]
            owner = f"{root}.{component}"
            targets = sorted(
                m
                for m in graph.modules
                if m.startswith(owner + ".") and m.rsplit(".", 1)[-1] in internal
            )
            for target in targets:
                for importer in sorted(graph.find_modules_that_directly_import(target)):
                    if importer == owner or importer.startswith(owner + "."):
                        continue
                    broken.append({"importer": importer, "imported": target})
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            output.print_error(
                f"{item['importer']} imports {item['imported']}: use the component's service",
                bold=True,
            )
            output.new_line()
