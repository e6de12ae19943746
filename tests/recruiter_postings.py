"""Postings written for the recruiter-facing tests (test_title, test_mixed_rule, test_reasons,
test_sections, test_batch_titles): an engineering body, a scientist body, and the ways a
posting mentions colleagues without being their role. Never text from ../shared."""

from __future__ import annotations

import json
import re

ENGINEER_BODY = """About the team
We run the platform that serves every model in the product.

What you will do
- Deploy machine learning models to production behind low-latency APIs
- Build and operate training and inference pipelines on Kubernetes
- Set up CI/CD, monitoring and alerting for model serving and data drift
- Own on-call for the serving stack and cut inference cost on GPUs

Requirements
- 4+ years building production services in Python or Go
- Experience with Docker, Kubernetes, Terraform and cloud infrastructure
- You have shipped and maintained ML systems in production

Benefits
- 401(k) with a 5% match, medical, dental and vision insurance
- Generous paid time off and parental leave

We are an equal opportunity employer and value diversity.
"""

SCIENTIST_BODY = """Who we are
A small research group studying how people learn from feedback.

Responsibilities
- Design experiments and causal inference studies to test new hypotheses
- Develop novel statistical methods and publish papers at top conferences
- Analyze data with Bayesian models and explain results to stakeholders
- Read the literature, propose research directions and mentor interns

Qualifications
- PhD in statistics, machine learning or a related quantitative field
- A record of peer-reviewed publications and research in causal inference
- Strong R or Python skills for statistical analysis and visualisation

What we offer
- Competitive salary, stock options and a 401(k) match
- Health, dental and vision insurance; paid holidays
"""

COLLEAGUES = [
    "Partner with our research engineers to bring ideas into the product.",
    "You will work with data scientists and ML engineers across the company.",
    "Collaborate closely with our team of Research Engineers and Applied Scientists.",
    "Report to the Head of Research Engineering.",
    "Our data scientists / ML engineers rely on the tools you build.",
    "Join a team of research scientists and engineers.",
    "5+ years of experience as a data scientist or machine learning engineer.",
    "Mentor junior research engineers and data scientists.",
]


def _json(stdout: str | bytes) -> dict:
    return json.loads(stdout)


def quotes(text: str) -> list[str]:
    return re.findall(r"“(.*?)”", text)
