"""A small library of conversation prompts, in three kinds.

Getting-to-know-you prompts build trust early; open questions keep a learning stance; the
cultural prompts help a pair talk about differences up front, in the first meetings.
"""

from __future__ import annotations

from typing import Literal

PromptKind = Literal["getting_to_know", "open_question", "cultural"]

PROMPTS: dict[PromptKind, tuple[str, ...]] = {
    "getting_to_know": (
        "What does a good week look like for you, outside work?",
        "Which place do you think of as home, and what do you miss about it when you're away?",
        "Tell a story about a person who changed the way you work.",
        "What is something you have learned recently just because you were curious?",
        "What would you like the other person to know about you that a CV would never say?",
        "Share a photo of where you are right now and tell the story behind it.",
        "What first drew you to the work you do?",
        "When do you do your best thinking: morning, night, walking, talking?",
    ),
    "open_question": (
        "What is on your mind that we haven't talked about yet?",
        "What would make this meeting worth your time?",
        "What did you try since we last spoke, and what surprised you?",
        "How did you decide that? What else did you consider?",
        "What would you do if you knew it could not fail?",
        "What is getting in the way, and which part of that is in your hands?",
        "How will you know you have made progress on this?",
        "What support would help most right now?",
        "What did you learn about yourself this month?",
        "If you looked back on this a year from now, what would you want to see?",
    ),
    "cultural": (
        "How is disagreement usually expressed where you grew up or work now: openly, or quietly?",
        "How do you prefer to receive feedback: direct and immediate, or written and considered?",
        "What does being on time mean to you, for a call and for a deadline?",
        "How do people in your workplace show respect to someone more senior?",
        "What is a way of encouraging someone that feels natural to you, and one that doesn't?",
        "How do you build trust with someone you have never met in person?",
        "Are there holidays, rhythms of the year or times of day we should plan around?",
        "When something is unclear, do you prefer to ask straight away or to work it out first?",
        "What should I do if I'm not sure whether something I said landed the wrong way?",
    ),
}
KIND_TITLES: dict[PromptKind, str] = {
    "getting_to_know": "Getting to know each other",
    "open_question": "Open questions",
    "cultural": "Talking about cultural differences",
}
# Prompts are offered unasked in a pair's first meetings; later, on demand.
FIRST_MEETINGS = 3
