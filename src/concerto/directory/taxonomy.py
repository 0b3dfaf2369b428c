"""Our two vocabularies: the needs a link worker hears about, and life-course programmes.

Each term has a stable Open Referral identifier (a UUID derived from its vocabulary and code), so
files exported from any Concerto site agree on what "music" means.
"""

import uuid

from concerto.directory.models import Taxonomy

NAMESPACE = uuid.UUID("6b4f7c4e-4a7d-4f0c-9c55-2f6b1d3b0a61")

NEEDS = [
    ("loneliness", "Loneliness and isolation", "Company, friendship and getting out more"),
    ("employment", "Employment", "Finding, keeping or returning to work; volunteering as a step"),
    ("debt", "Debt and money", "Debt advice, budgeting and money worries"),
    ("benefits", "Welfare benefits", "Help claiming benefits and with assessments"),
    ("housing", "Housing", "Housing advice, homelessness, tenancy support"),
    ("arts", "Arts and creativity", "Art, crafts, writing, drama"),
    ("music", "Music", "Singing, choirs, playing music together"),
    ("physical-activity", "Physical activity", "Walking, sport, exercise and movement"),
    ("nature", "Nature and gardening", "Green spaces, gardening and outdoor activity"),
    ("peer-support", "Peer support", "Support from people with lived experience"),
    ("carers", "Carers", "Support for people who care for someone"),
    ("parenting", "Parenting", "Support for parents and families"),
    ("young-people", "Young people", "Services for children and young people"),
    ("older-people", "Older people", "Services for older people"),
    ("bereavement", "Bereavement", "Support after someone has died"),
    ("substance-use", "Drugs and alcohol", "Support with drug or alcohol use"),
    ("food", "Food", "Food banks, community meals and cooking"),
    ("learning", "Learning and skills", "Courses, literacy, digital skills"),
]

LIFE_COURSE = [
    ("schools", "Schools", "Mental health promotion in schools"),
    ("workplaces", "Workplaces", "Mental health promotion at work"),
    ("parents", "Parents", "Perinatal and early years support for parents"),
    ("retirement", "Retirement", "Preparing for and living in retirement"),
    ("end-of-life", "End of life", "Support towards the end of life and for those around"),
]

VOCABULARIES = {Taxonomy.NEEDS: NEEDS, Taxonomy.LIFE_COURSE: LIFE_COURSE}


def term_id(taxonomy: str, code: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{taxonomy}:{code}"))


def ensure_terms(term_model=None) -> int:
    """Create any missing term (idempotent). `term_model` lets a migration pass its historical model."""
    if term_model is None:
        from concerto.directory.models import TaxonomyTerm as term_model
    created = 0
    for taxonomy, terms in VOCABULARIES.items():
        for code, name, description in terms:
            _, made = term_model.objects.get_or_create(
                taxonomy=taxonomy.value,
                code=code,
                defaults={"oruk_id": term_id(taxonomy.value, code), "name": name, "description": description},
            )
            created += made
    return created
