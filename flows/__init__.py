"""Procedure flow definitions, engine and bundles. Kivy-free.

    reg = flows.load_registry("flows/definitions")
    eng = flows.FlowEngine(reg.get("khai-sinh"), today=clock.today(), kiosk_unit={...})
"""
from flows.engine import DEFAULT_CONSENT, FlowEngine, consent_sha256, consent_text
from flows.errors import ConditionError, FlowError, FlowLoadError, Problem
from flows.loader import load_flow, load_flow_bytes
from flows.model import Document, Field, Flow, Option, Step
from flows.registry import FlowRegistry, load_registry

__all__ = [
    "ConditionError", "DEFAULT_CONSENT", "Document", "Field", "Flow", "FlowEngine", "FlowError", "FlowLoadError",
    "FlowRegistry", "Option", "Problem", "Step", "consent_sha256", "consent_text", "load_flow", "load_flow_bytes",
    "load_registry",
]
