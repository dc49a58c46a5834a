"""One occupational taxonomy for both training sets.

livecareer labels 24 broad industries; the Updated resume set labels 25 tech-leaning roles. The
five labels that name the same occupation in both (HR, Advocate, Arts, Sales, Fitness) merge; the
rest stay distinct, so "Java Developer" is finer than "Information Technology" rather than folded
into it. Every category carries the phrases used to recognise it in a CV or a role title.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    aliases: tuple[str, ...] = ()

    @property
    def phrases(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


CATEGORIES: tuple[Category, ...] = (
    Category("accountant", "Accountant", ("accounting", "bookkeeper")),
    Category("advocate", "Advocate", ("lawyer", "legal", "attorney")),
    Category("agriculture", "Agriculture", ("farm", "agronomist")),
    Category("apparel", "Apparel", ("fashion", "garment")),
    Category("arts", "Arts", ("artist",)),
    Category("automobile", "Automobile", ("automotive",)),
    Category("aviation", "Aviation", ("aircraft", "pilot")),
    Category("banking", "Banking", ("bank", "banker")),
    Category("bpo", "BPO", ("call center", "customer service representative")),
    Category("business-development", "Business Development", ("business development",)),
    Category("chef", "Chef", ("cook", "culinary")),
    Category("construction", "Construction", ("construction",)),
    Category("consultant", "Consultant", ("consulting",)),
    Category("designer", "Designer", ("design",)),
    Category("digital-media", "Digital Media", ("social media", "media")),
    Category("engineering", "Engineering", ("engineer",)),
    Category("finance", "Finance", ("financial analyst", "finance")),
    Category("fitness", "Fitness", ("health and fitness", "personal trainer", "trainer")),
    Category("healthcare", "Healthcare", ("nurse", "nursing", "medical", "patient care")),
    Category("hr", "HR", ("human resources", "recruiter", "recruitment")),
    Category(
        "information-technology",
        "Information Technology",
        ("it support", "information systems", "software engineer", "software developer"),
    ),
    Category("public-relations", "Public Relations", ("communications",)),
    Category("sales", "Sales", ("sales representative",)),
    Category("teacher", "Teacher", ("teaching", "education")),
    Category("data-science", "Data Science", ("data scientist", "machine learning")),
    Category("java-developer", "Java Developer", ("java",)),
    Category("testing", "Software Testing", ("testing", "tester", "qa")),
    Category("devops-engineer", "DevOps Engineer", ("devops",)),
    Category("python-developer", "Python Developer", ("python",)),
    Category("web-designing", "Web Designing", ("web designer", "web design", "web developer")),
    Category("hadoop", "Hadoop", ("big data", "hadoop developer")),
    Category("mechanical-engineer", "Mechanical Engineer", ("mechanical",)),
    Category("operations-manager", "Operations Manager", ("operations",)),
    Category("etl-developer", "ETL Developer", ("etl", "data warehouse")),
    Category("blockchain", "Blockchain", ("blockchain developer",)),
    Category("database", "Database", ("database administrator", "dba", "sql")),
    Category("electrical-engineering", "Electrical Engineering", ("electrical engineer",)),
    Category("pmo", "PMO", ("project management office", "project manager")),
    Category("business-analyst", "Business Analyst", ("business analysis",)),
    Category("dotnet-developer", "DotNet Developer", (".net", "dot net", "asp.net")),
    Category("automation-testing", "Automation Testing", ("test automation", "selenium")),
    Category("network-security-engineer", "Network Security Engineer", ("network security",)),
    Category("civil-engineer", "Civil Engineer", ("civil engineering",)),
    Category("sap-developer", "SAP Developer", ("sap", "abap")),
)

BY_ID: dict[str, Category] = {c.id: c for c in CATEGORIES}

# Source labels of each dataset -> category id (each dataset maps one-to-one into the taxonomy).
LIVECAREER_LABELS: dict[str, str] = {
    "ACCOUNTANT": "accountant",
    "ADVOCATE": "advocate",
    "AGRICULTURE": "agriculture",
    "APPAREL": "apparel",
    "ARTS": "arts",
    "AUTOMOBILE": "automobile",
    "AVIATION": "aviation",
    "BANKING": "banking",
    "BPO": "bpo",
    "BUSINESS-DEVELOPMENT": "business-development",
    "CHEF": "chef",
    "CONSTRUCTION": "construction",
    "CONSULTANT": "consultant",
    "DESIGNER": "designer",
    "DIGITAL-MEDIA": "digital-media",
    "ENGINEERING": "engineering",
    "FINANCE": "finance",
    "FITNESS": "fitness",
    "HEALTHCARE": "healthcare",
    "HR": "hr",
    "INFORMATION-TECHNOLOGY": "information-technology",
    "PUBLIC-RELATIONS": "public-relations",
    "SALES": "sales",
    "TEACHER": "teacher",
}
UPDATED_LABELS: dict[str, str] = {
    "Advocate": "advocate",
    "Arts": "arts",
    "Automation Testing": "automation-testing",
    "Blockchain": "blockchain",
    "Business Analyst": "business-analyst",
    "Civil Engineer": "civil-engineer",
    "Data Science": "data-science",
    "Database": "database",
    "DevOps Engineer": "devops-engineer",
    "DotNet Developer": "dotnet-developer",
    "ETL Developer": "etl-developer",
    "Electrical Engineering": "electrical-engineering",
    "HR": "hr",
    "Hadoop": "hadoop",
    "Health and fitness": "fitness",
    "Java Developer": "java-developer",
    "Mechanical Engineer": "mechanical-engineer",
    "Network Security Engineer": "network-security-engineer",
    "Operations Manager": "operations-manager",
    "PMO": "pmo",
    "Python Developer": "python-developer",
    "SAP Developer": "sap-developer",
    "Sales": "sales",
    "Testing": "testing",
    "Web Designing": "web-designing",
}


def category_name(category_id: str) -> str:
    """Human name for a category id; unknown ids (a team's own label) are shown as given."""
    cat = BY_ID.get(category_id)
    return cat.name if cat else category_id


def category_phrases(category_id: str) -> tuple[str, ...]:
    cat = BY_ID.get(category_id)
    return cat.phrases if cat else (category_id.replace("-", " "),)


def normalise_label(label: str) -> str:
    """Map a label from either dataset, a category name or a team's own label to a category id."""
    if label in BY_ID:
        return label
    if label in LIVECAREER_LABELS:
        return LIVECAREER_LABELS[label]
    if label in UPDATED_LABELS:
        return UPDATED_LABELS[label]
    lowered = label.strip().lower()
    for cat in CATEGORIES:
        if lowered in {p.lower() for p in cat.phrases} or lowered == cat.id:
            return cat.id
    return lowered.replace(" ", "-")
