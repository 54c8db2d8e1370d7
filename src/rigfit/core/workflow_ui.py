"""The UI (LiteGraph) format of a workflow, as ComfyUI's frontend saves it in ``user/default/workflows/``.

Shape (frontend 1.27, ``version: 0.4``): ``nodes`` each with ``id, type, pos, size, flags, order, mode, inputs,
outputs, properties, widgets_values``; ``links`` as ``[id, from_node, from_slot, to_node, to_slot, type]``;
``last_node_id`` and ``last_link_id``. Only connectable inputs (non-widget types) are input slots; widget values
are listed in the schema's input order, and an INT with ``control_after_generate`` (a seed) is followed by the
extra "fixed/randomize" value the frontend adds. ``ui_to_api`` reads such a file back the way the frontend turns
it into a prompt, so a test can prove the two formats carry the same graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rigfit.core.workflow_pipelines import LOADER_INPUTS, Link
from rigfit.core.workflow_schema import InputSpec, Schema
from rigfit.core.workflows import Workflow

_COLUMN = 380
_ROW_GAP = 40


def _depths(workflow: Workflow) -> dict[int, int]:
    depth: dict[int, int] = {}
    nodes = {n.id: n for n in workflow.nodes}

    def visit(nid: int) -> int:
        if nid not in depth:
            sources = [v.node for v in nodes[nid].inputs.values() if isinstance(v, Link)]
            depth[nid] = 1 + max((visit(s) for s in sources), default=-1)
        return depth[nid]

    for nid in nodes:
        visit(nid)
    return depth


# Nodes whose frontend keeps widget values by name (VideoHelperSuite's useKVState, web/js/VHS.core.js at
# 4ee72c06): a list is read through a legacy layout (VHS_LoadVideo's still has force_size), so these get a dict.
KV_STATE = frozenset({"VHS_LoadVideo", "VHS_VideoCombine"})


def _slot_inputs(specs: tuple[InputSpec, ...]) -> list[InputSpec]:
    return [s for s in specs if not s.is_widget]


def to_ui(workflow: Workflow, schema: Schema) -> dict[str, Any]:
    """The LiteGraph document for ``workflow`` (node classes must be in ``schema``)."""
    depth = _depths(workflow)
    order = sorted(workflow.nodes, key=lambda n: (depth[n.id], n.id))
    links: list[list[Any]] = []
    out_links: dict[tuple[int, int], list[int]] = {}
    in_links: dict[tuple[int, str], int] = {}
    for node in workflow.nodes:
        slots = _slot_inputs(schema.nodes[node.class_type].inputs)
        for to_slot, spec in enumerate(slots):
            value = node.inputs.get(spec.name)
            if isinstance(value, Link):
                link_id = len(links) + 1
                source = schema.nodes[next(n.class_type for n in workflow.nodes if n.id == value.node)]
                links.append([link_id, value.node, value.slot, node.id, to_slot, source.outputs[value.slot]])
                out_links.setdefault((value.node, value.slot), []).append(link_id)
                in_links[(node.id, spec.name)] = link_id
    column_y: dict[int, int] = {}
    ui_nodes: list[dict[str, Any]] = []
    for index, node in enumerate(order):
        node_schema = schema.nodes[node.class_type]
        widgets: list[Any] = []
        named: dict[str, Any] = {}
        for spec in node_schema.inputs:
            if spec.is_widget:
                fallback = spec.default if spec.default is not None or not spec.options else spec.options[0]
                widgets.append(node.inputs.get(spec.name, fallback))
                named[spec.name] = widgets[-1]
                if spec.control_after_generate:
                    widgets.append("fixed")
        slots = _slot_inputs(node_schema.inputs)
        height = 46 + 24 * max(len(slots), len(node_schema.outputs)) + 26 * len(widgets)
        col = depth[node.id]
        y = column_y.get(col, 0)
        column_y[col] = y + height + _ROW_GAP
        entry: dict[str, Any] = {
            "id": node.id,
            "type": node.class_type,
            "pos": [col * _COLUMN, y],
            "size": [320, height],
            "flags": {},
            "order": index,
            "mode": 0,
            "inputs": [
                {"name": s.name, "type": s.type, "link": in_links.get((node.id, s.name))} for s in slots
            ],
            "outputs": [
                {
                    "name": name,
                    "type": kind,
                    "links": out_links.get((node.id, slot)) or None,
                    "slot_index": slot,
                }
                for slot, (kind, name) in enumerate(
                    zip(node_schema.outputs, node_schema.output_names, strict=False)
                )
            ],
            "properties": {"Node name for S&R": node.class_type},
            "widgets_values": named if node.class_type in KV_STATE else widgets,
        }
        models = [
            {"name": name, "url": workflow.urls[(folder, name)], "directory": folder}
            for folder, input_name in LOADER_INPUTS.get(node.class_type, ())
            for name in [str(node.inputs.get(input_name))]
            if (folder, name) in workflow.urls
        ]
        if models:
            # The frontend offers these downloads when a file is missing (its "missing models" dialog).
            entry["properties"]["models"] = models
        if node.title:
            entry["title"] = node.title
        ui_nodes.append(entry)
    return {
        "last_node_id": max((n.id for n in workflow.nodes), default=0),
        "last_link_id": len(links),
        "nodes": ui_nodes,
        "links": links,
        "groups": [],
        "config": {},
        "extra": {
            "rigfit": {"preset": workflow.preset, "pipeline": workflow.kind, "notes": list(workflow.notes)}
        },
        "version": 0.4,
    }


def ui_to_api(doc: Mapping[str, Any], schema: Schema) -> dict[str, Any]:
    """The prompt the frontend would send for a UI document (widgets consumed in order, control values skipped)."""
    links = {int(link[0]): link for link in doc.get("links") or ()}
    prompt: dict[str, Any] = {}
    for node in doc.get("nodes") or ():
        node_schema = schema.nodes[node["type"]]
        inputs: dict[str, Any] = {}
        for slot in node.get("inputs") or ():
            if slot.get("link") is not None:
                link = links[int(slot["link"])]
                inputs[slot["name"]] = [str(link[1]), int(link[2])]
        raw = node.get("widgets_values") or ()
        if isinstance(raw, Mapping):  # a KV_STATE node: values by name
            inputs.update({s.name: raw[s.name] for s in node_schema.inputs if s.is_widget and s.name in raw})
            prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
            continue
        values = list(raw)
        for spec in node_schema.inputs:
            if spec.is_widget and values:
                inputs[spec.name] = values.pop(0)
                if spec.control_after_generate and values:
                    values.pop(0)
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return prompt
