"""An import-linter contract for ARCHITECTURE.md rule 2: components reach each other only
through their service modules (and schemas, errors, events), never their models or
repositories. Listed once here instead of one contract per pair of components."""

from __future__ import annotations

from typing import Any

from importlinter import Contract, ContractCheck, fields, output


class ComponentBoundaries(Contract):
    """No module outside ``<root>.<component>`` imports ``<component>.<internal module>``."""

    components = fields.ListField(subfield=fields.StringField())
    internal = fields.ListField(subfield=fields.StringField())

    def check(self, graph: Any, verbose: bool) -> ContractCheck:
        root = self.session_options["root_packages"][0]
        broken: list[dict[str, str]] = []
        for component in self.components:  # type: ignore[attr-defined]
            owner = f"{root}.{component}"
            for name in self.internal:  # type: ignore[attr-defined]
                target = f"{owner}.{name}"
                if target not in graph.modules:
                    continue
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
