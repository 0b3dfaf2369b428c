"""FHIR R4 facade, aligned with UK Core identifiers and code systems."""
