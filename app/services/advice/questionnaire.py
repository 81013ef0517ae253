"""The needs questionnaire of a line of business: the agency's own, or the built-in one.

The questions are what the broker must ask before advising (L521-4: the client's
demands and needs); an agency adapts them per line (Administration › Questionnaires).
A proposal keeps its answers with the questions as asked (app/models/proposal.py).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import LineOfBusiness, NeedsQuestionnaire
from app.models.base import ModelValidationError

MAX_QUESTIONS = 40
QUESTION_LENGTH = 300
ANSWER_LENGTH = 2_000

# Built-in questions, in French: they are printed on the FIC the client signs.
DEFAULT_QUESTIONS: dict[LineOfBusiness, tuple[str, ...]] = {
    LineOfBusiness.auto: (
        "Quel véhicule faut-il assurer (marque, modèle, année) ?",
        "Usage du véhicule (privé, trajet travail, professionnel) et kilométrage annuel",
        "Conducteurs déclarés et leur bonus-malus",
        "Sinistres des trois dernières années",
        "Garanties souhaitées (tiers, tous risques, assistance, protection du conducteur)",
    ),
    LineOfBusiness.home: (
        "Logement à assurer (maison, appartement), surface et nombre de pièces",
        "Vous êtes propriétaire, locataire ou propriétaire non occupant ?",
        "Valeur des biens mobiliers et objets de valeur",
        "Sinistres des trois dernières années",
        "Garanties souhaitées (vol, bris de glace, dépendances, piscine)",
    ),
    LineOfBusiness.health: (
        "Personnes à couvrir et leur âge",
        "Régime obligatoire (général, indépendant, agricole)",
        "Postes de dépenses prioritaires (hospitalisation, optique, dentaire, médecines douces)",
        "Une mutuelle d'entreprise vous couvre-t-elle déjà ?",
        "Budget mensuel envisagé",
    ),
    LineOfBusiness.life: (
        "Objectif du placement (épargne, transmission, retraite)",
        "Horizon de placement et montant envisagé",
        "Connaissance et expérience des marchés financiers",
        "Tolérance au risque et capacité à subir des pertes",
        "Préférences en matière de durabilité",
    ),
    LineOfBusiness.liability: (
        "Activités à couvrir",
        "Personnes à couvrir",
        "Sinistres des trois dernières années",
        "Montants de garantie souhaités",
    ),
    LineOfBusiness.professional: (
        "Activité, effectif et chiffre d'affaires",
        "Locaux et matériels à assurer",
        "Responsabilités à couvrir (civile professionnelle, décennale, exploitation)",
        "Sinistres des trois dernières années",
        "Garanties souhaitées (perte d'exploitation, protection juridique)",
    ),
    LineOfBusiness.travel: (
        "Destination, dates et durée du voyage",
        "Voyageurs et leur âge",
        "Garanties souhaitées (annulation, assistance rapatriement, bagages)",
    ),
}


def parse_questions(text: str | None) -> list[str]:
    """The questions of a questionnaire as typed: one a line, blank lines dropped."""
    questions = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not questions or len(questions) > MAX_QUESTIONS:
        raise ModelValidationError(
            {"questions": _("Write 1 to %(count)d questions, one a line.", count=MAX_QUESTIONS)}
        )
    if any(len(question) > QUESTION_LENGTH for question in questions):
        raise ModelValidationError(
            {
                "questions": _(
                    "A question holds %(count)d characters at most.", count=QUESTION_LENGTH
                )
            }
        )
    if len(set(questions)) != len(questions):
        raise ModelValidationError({"questions": _("A question is asked twice.")})
    return questions


def check_questionnaire(questionnaire: NeedsQuestionnaire) -> None:
    questionnaire.questions = "\n".join(parse_questions(questionnaire.questions))


def questions_for(session: Session, organisation_id: int, line: LineOfBusiness) -> list[str]:
    """The agency's questions for ``line``, else the built-in ones."""
    text = session.scalar(
        select(NeedsQuestionnaire.questions).where(
            NeedsQuestionnaire.organisation_id == organisation_id,
            NeedsQuestionnaire.line_of_business == line,
        )
    )
    return parse_questions(text) if text else list(DEFAULT_QUESTIONS[line])


def answers_for(questions: list[str], given: Any) -> list[dict[str, str]]:
    """The answers in the questionnaire's order, each with its question.

    ``given`` maps questions to answers (an object), or is the stored list of
    ``{"question", "answer"}``; a question the questionnaire does not ask is refused.
    Unanswered questions are kept empty: the FIC is generated once all are answered.
    """
    if given is None:
        given = {}
    if isinstance(given, list):
        pairs: dict[str, Any] = {}
        for item in given:
            if not isinstance(item, dict) or "question" not in item:
                raise ModelValidationError(
                    {"answers": _("Give an object of questions and their answers.")}
                )
            pairs[item["question"]] = item.get("answer")
        given = pairs
    if not isinstance(given, dict):
        raise ModelValidationError({"answers": _("Give an object of questions and their answers.")})
    unknown = [key for key in given if key not in questions]
    if unknown:
        raise ModelValidationError(
            {
                "answers": _(
                    "Not a question of this line: %(question)s", question=str(unknown[0])[:80]
                )
            }
        )
    answers = []
    for question in questions:
        answer = given.get(question)
        answer = "" if answer is None else str(answer).strip()
        if len(answer) > ANSWER_LENGTH:
            raise ModelValidationError(
                {"answers": _("An answer holds %(count)d characters at most.", count=ANSWER_LENGTH)}
            )
        answers.append({"question": question, "answer": answer})
    return answers


def unanswered(answers: list[dict[str, str]]) -> list[str]:
    return [item["question"] for item in answers if not item.get("answer")]
