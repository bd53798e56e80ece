"""The synthetic world of the mini profile: user facts, assistant recommendations, preferences, events.

Statements reuse the words of their questions (a dog's *name* is asked with "name"), as real chat memories
often do; this keeps the offline extractive teacher meaningful and the task learnable by tiny models.
"""

from __future__ import annotations

from dataclasses import dataclass

_NAMES = ("Rex Max Bella Luna Charlie Daisy Milo Coco Rocky Bailey Oscar Ruby Teddy Rosie Buster Molly Jack "
          "Lola Toby Ziggy Pepper Nala Simba Olive Finn Hazel Leo Maple Juno Biscuit").split()
_CITIES = ("Paris Berlin Madrid Lisbon Vienna Prague Dublin Oslo Tokyo Seoul Boston Denver Austin Chicago "
           "Seattle Toronto Sydney Cairo Lima Quito Athens Rome Milan Munich Zurich Geneva Warsaw Budapest").split()
_COLORS = "red blue green yellow purple orange teal pink black white silver gold navy maroon beige".split()
_JOBS = ("nurse teacher chef pilot lawyer dentist plumber designer engineer writer farmer baker librarian "
         "architect pharmacist electrician accountant journalist firefighter").split()
_CARS = "Toyota Honda Ford Volvo Subaru Mazda Kia Tesla Audi Fiat Jeep Nissan Skoda Peugeot Renault".split()
_SPORTS = "tennis soccer hockey cricket rugby golf baseball volleyball badminton cycling rowing surfing".split()
_FOODS = "pizza sushi tacos ramen curry pasta paella dumplings burgers falafel pho lasagna".split()
_INSTRUMENTS = "piano guitar violin drums flute cello trumpet banjo harp saxophone ukulele".split()
_NUMBERS = [str(n) for n in range(3, 99, 3)]
_LANGS = "Spanish French German Italian Japanese Korean Arabic Hindi Dutch Greek Swahili Polish".split()
_MONTHS = "January February March April May June July August September October November December".split()
_FLOWERS = "roses tulips lilies orchids daisies peonies sunflowers irises poppies lavender".split()

_RESTAURANTS = ("Luigi's Trattoria|Golden Dragon|Blue Fin|Casa Verde|The Hungry Fox|Olive Tree|Saffron House|"
                "Red Lantern|Bistro Nova|Maple Grill|Copper Pot|Little Lisbon").split("|")
_BOOKS = ("Dune|Emma|Beloved|Ulysses|Rebecca|Middlemarch|Persuasion|Kindred|Solaris|Frankenstein|Walden|"
          "Dracula").split("|")
_MOVIES = ("Casablanca|Vertigo|Alien|Amelie|Heat|Arrival|Up|Coco|Jaws|Rocky|Psycho|Memento").split("|")
_HOTELS = ("Grand Plaza|Sea Breeze Inn|Hotel Aurora|Pine Lodge|Harbor View|The Ivy House|Sunset Suites|"
           "Royal Oak").split("|")
_PODCASTS = ("Deep Dive|Morning Brew|Science Hour|History Lane|Tech Talk|Mind Matters|Story Time|"
             "Open Road").split("|")
_PLANTS = "basil fern cactus orchid ivy bamboo aloe mint lavender rosemary".split()

_GENRES = "jazz blues reggae techno opera salsa punk folk gospel disco".split()
_CUISINES = "Thai Greek Mexican Indian Korean Ethiopian Turkish Peruvian Vietnamese Lebanese".split()
_HOBBIES = "hiking pottery painting knitting fishing climbing baking chess gardening yoga".split()
_GENRES_BOOK = "mystery fantasy romance poetry horror biography thriller comedy".split()


@dataclass(frozen=True)
class Attribute:
    """A fact the user states about themself (SU, MR, KU and abstention questions)."""

    key: str
    noun: str  # "dog's name": used in MR questions and abstention explanations
    question: str  # "What is my dog's name?"
    statement: str  # "My dog's name is {v}."
    update: str  # knowledge update: "I renamed my dog, his name is {v} now."
    echo: str  # assistant restating it: "{v} is a lovely name for a dog!"
    values: tuple[str, ...]


@dataclass(frozen=True)
class Recommendation:
    """Something the assistant recommends (SA questions)."""

    key: str
    request: str  # user: "Can you recommend a restaurant for dinner?"
    statement: str  # assistant: "I recommend the restaurant {v}."
    question: str  # "Which restaurant did you recommend to me?"
    values: tuple[str, ...]


@dataclass(frozen=True)
class Preference:
    """A stated preference that a later request should use (SP questions)."""

    key: str
    statement: str  # user: "I really love {v} music."
    question: str  # "Can you suggest some music for me to listen to tonight?"
    values: tuple[str, ...]


@dataclass(frozen=True)
class Event:
    """Something the user did on a session's date (TR questions)."""

    past: str  # "adopted a puppy"
    base: str  # "adopt a puppy"

    @property
    def statement(self) -> str:
        """What the user says that day. It uses the question's words ("Which did I do first, adopt a puppy or
        ...?"), as the other statements do, so the answer is a phrase of the chat and a note quoting the chat
        contains it (the offline verifier checks containment)."""
        return f"Today I got to {self.base}."


def _attr(key, noun, question, statement, update, echo, values) -> Attribute:
    return Attribute(key, noun, question, statement, update, echo, tuple(values))


ATTRIBUTES: tuple[Attribute, ...] = (
    _attr("dog", "dog's name", "What is my dog's name?", "My dog's name is {v}.",
          "I renamed my dog, my dog's name is {v} now.", "{v} is a lovely name for a dog!", _NAMES),
    _attr("cat", "cat's name", "What is my cat's name?", "My cat's name is {v}.",
          "We renamed the cat, my cat's name is {v} now.", "{v} is a cute name for a cat!", _NAMES),
    _attr("city", "home city", "Which city do I live in?", "I live in the city of {v}.",
          "I just moved, I live in the city of {v} now.", "{v} is a great city to live in!", _CITIES),
    _attr("birth_city", "birth city", "Which city was I born in?", "I was born in the city of {v}.",
          "Correction: I was actually born in the city of {v}.", "Being born in {v} must be special!", _CITIES),
    _attr("color", "favorite color", "What is my favorite color?", "My favorite color is {v}.",
          "These days my favorite color is {v}.", "{v} is a beautiful color!", _COLORS),
    _attr("job", "job", "What is my job?", "My job is working as a {v}.",
          "I changed careers, my job is working as a {v} now.", "Working as a {v} sounds rewarding!", _JOBS),
    _attr("car", "car brand", "What brand is my car?", "My car is a {v}.",
          "I sold my old car, my car is a {v} now.", "A {v} is a solid car!", _CARS),
    _attr("sport", "favorite sport", "What is my favorite sport?", "My favorite sport is {v}.",
          "Lately my favorite sport is {v}.", "{v} is a fun sport!", _SPORTS),
    _attr("food", "favorite food", "What is my favorite food?", "My favorite food is {v}.",
          "My favorite food is {v} now.", "{v} is delicious!", _FOODS),
    _attr("instrument", "instrument", "Which instrument do I play?", "I play the {v} as my instrument.",
          "I switched instruments, I play the {v} now.", "The {v} is a wonderful instrument!", _INSTRUMENTS),
    _attr("lucky", "lucky number", "What is my lucky number?", "My lucky number is {v}.",
          "My lucky number is {v} now.", "{v} is a nice lucky number!", _NUMBERS),
    _attr("language", "language I am learning", "Which language am I learning?", "I am learning {v} as a new language.",
          "I stopped that, I am learning {v} now.", "{v} is a beautiful language!", _LANGS),
    _attr("sister", "sister's name", "What is my sister's name?", "My sister's name is {v}.",
          "My sister changed her name, my sister's name is {v} now.", "{v} is a lovely name!", _NAMES),
    _attr("month", "favorite month", "What is my favorite month?", "My favorite month is {v}.",
          "My favorite month is {v} now.", "{v} is a great month!", _MONTHS),
    _attr("flower", "favorite flower", "What are my favorite flowers?", "My favorite flowers are {v}.",
          "My favorite flowers are {v} now.", "{v} are gorgeous flowers!", _FLOWERS),
    _attr("plant", "house plant", "What plant do I keep at home?", "The plant I keep at home is a {v}.",
          "The plant I keep at home is a {v} now.", "A {v} is an easy plant to keep!", _PLANTS),
)

RECOMMENDATIONS: tuple[Recommendation, ...] = (
    Recommendation("restaurant", "Can you recommend a restaurant for dinner?", "I recommend the restaurant {v}.",
                   "Which restaurant did you recommend to me?", tuple(_RESTAURANTS)),
    Recommendation("book", "Can you recommend a book to read?", "I recommend the book {v}.",
                   "Which book did you recommend to me?", tuple(_BOOKS)),
    Recommendation("movie", "Can you recommend a movie for tonight?", "I recommend the movie {v}.",
                   "Which movie did you recommend to me?", tuple(_MOVIES)),
    Recommendation("hotel", "Can you recommend a hotel for my trip?", "I recommend the hotel {v}.",
                   "Which hotel did you recommend to me?", tuple(_HOTELS)),
    Recommendation("podcast", "Can you recommend a podcast?", "I recommend the podcast {v}.",
                   "Which podcast did you recommend to me?", tuple(_PODCASTS)),
)

PREFERENCES: tuple[Preference, ...] = (
    Preference("music", "I really love listening to {v} music.",
               "Can you suggest some music for me to listen to tonight?", tuple(_GENRES)),
    Preference("cuisine", "I really love cooking {v} food.",
               "Can you suggest a dish for me to cook this weekend?", tuple(_CUISINES)),
    Preference("hobby", "I really love {v} in my free time.",
               "Can you suggest an activity for my free time this weekend?", tuple(_HOBBIES)),
    Preference("reading", "I really love reading {v} books.",
               "Can you suggest a book for me to read on vacation?", tuple(_GENRES_BOOK)),
)

EVENTS: tuple[Event, ...] = (
    Event("adopted a puppy", "adopt a puppy"), Event("bought a new car", "buy a new car"),
    Event("started a pottery class", "start a pottery class"), Event("ran a marathon", "run a marathon"),
    Event("painted the kitchen", "paint the kitchen"), Event("visited my grandmother", "visit my grandmother"),
    Event("planted a garden", "plant a garden"), Event("joined a book club", "join a book club"),
    Event("fixed my bike", "fix my bike"), Event("moved my office", "move my office"),
    Event("baked a wedding cake", "bake a wedding cake"), Event("learned to swim", "learn to swim"),
)

# Small talk that carries no user fact: (user, assistant) pairs.
FILLER: tuple[tuple[str, str], ...] = (
    ("Can you give me a tip for sleeping better?", "Sure, try to keep a regular bedtime and avoid screens late."),
    ("How do I keep my kitchen knives sharp?", "Use a honing steel often and a whetstone every few months."),
    ("What is a good way to start running?", "Start slowly with short runs and walk breaks, then build up."),
    ("Any advice for a job interview?", "Prepare a few stories about your work and ask good questions."),
    ("How can I save money on groceries?", "Plan your meals, make a list and buy staples in bulk."),
    ("What should I pack for a weekend trip?", "Pack layers, a charger, snacks and comfortable shoes."),
    ("How often should I water succulents?", "Water them only when the soil is completely dry."),
    ("Can you explain what compound interest is?", "It is interest earned on both the money and past interest."),
    ("How do I make my emails more polite?", "Open with a greeting, say please and thank the reader."),
    ("What is a quick healthy breakfast?", "Oats with fruit and yogurt is quick and healthy."),
    ("How can I focus better while working?", "Work in short blocks with breaks and silence notifications."),
    ("What are good stretches after sitting?", "Try hip flexor stretches, neck rolls and a standing back bend."),
    ("How do I remove a coffee stain?", "Blot it, then use cold water with a little dish soap."),
    ("Any tips for learning vocabulary?", "Use spaced repetition and write sentences with new words."),
    ("How do I clean a laptop keyboard?", "Turn it off, use compressed air and a slightly damp cloth."),
    ("What is a fun game for a rainy day?", "A board game or a puzzle is great for a rainy day."),
    ("How do I keep houseplants alive?", "Give them enough light and do not overwater them."),
    ("What is the best time to drink water?", "Drink water regularly through the day, not all at once."),
    ("How do I write a thank you note?", "Be specific about what you are thankful for and keep it short."),
    ("Can you suggest a warm up before lifting?", "Do light cardio and a few easy sets of the same lift."),
)
USER_OPENERS = ("By the way, ", "Also, ", "Just so you know, ", "", "Oh, and ", "Fun fact: ")
ACKS = ("Thanks for sharing!", "Good to know!", "Noted, thanks!", "That is great to hear!")
EVENT_ACKS = ("That sounds like a big day!", "Congratulations, that is exciting!", "How wonderful!")
