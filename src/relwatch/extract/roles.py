"""Who is a party to a relation, and who acts on whom: roles and direction from a dependency parse.

A country named only as a venue ("talks in Hanoi", "said in Tokyo", "Tokyo dealers") or only as
an attribute of money ("37 U.S. cents", "the Canadian dollar", "Japan's currency") is not a
party, so each mention gets a role, ``actor``, ``place`` or ``attribute``; a pair whose side
has no actor mention is ``place_only`` (kept, not indexed): a price quoted in two currencies
is no relation between the two states. For a pair (A, B) the direction is ``a->b`` when A is the
grammatical agent (subject, "by A" agent, possessor or modifier of the acting noun: "Japan's
ministry", "Japanese officials") of a head that governs B; ``b->a`` the other way round;
``mutual`` for joint subjects ("A and B agreed"), symmetric nouns ("talks between A and B") or
no clear agent.

Only the tokenizer, tok2vec and parser run (no tagger, lemmatizer or NER): the rules read
dependency labels and word forms only (~450 sentences/s on two idle cores, bench/roles.py).
Only sentences with two or more countries are parsed, because roles and direction only
matter for pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from relwatch.extract.mentions import Mention
from relwatch.extract.ner import DEFAULT_MODEL, PARSE_ONLY_DISABLE, load_pipeline
from relwatch.extract.sentences import dateline_end

Role = Literal["actor", "place", "attribute"]
#: Roles of a mention that is no party to a relation.
NON_PARTY: frozenset[str] = frozenset({"place", "attribute"})
Direction = Literal["a->b", "b->a", "mutual"]

# Prepositions whose object is where something happens ("in Tokyo", "near Japan").
_LOCATIVE = frozenset(
    {"in", "at", "inside", "within", "near", "outside", "around", "across", "throughout", "off"}
)
# Of those, the ones that give a place whatever governs them.
_ALWAYS_PLACE = frozenset({"near", "outside", "around", "across", "throughout", "off"})
# Heads after which "in/at X" names the country acted on, not a venue ("invest in China").
_NOT_A_VENUE = frozenset(
    {
        "invest",
        "invests",
        "invested",
        "investing",
        "investment",
        "investments",
        "stake",
        "stakes",
        "interest",
        "interests",
        "confidence",
        "trust",
        "faith",
        "intervene",
        "intervened",
        "intervening",
        "intervention",
        "interfere",
        "interfered",
        "interference",
        "meddle",
        "meddling",
        "involvement",
        "involved",
        "role",
        "aim",
        "aimed",
        "aiming",
        "direct",
        "directed",
        "target",
        "targeted",
        "point",
        "pointed",
        "fire",
        "fired",
        "firing",
        "angry",
        "anger",
        "annoyed",
        "furious",
        "look",
        "looked",
        "jab",
        "swipe",
        "lash",
        "lashed",
        "retaliate",
        "retaliated",
        "retaliation",
    }
)
# Heads after which "in/at X" is the venue of a meeting, a statement, a stay or a market.
_VENUE_HEADS = frozenset(
    {
        "say",
        "says",
        "said",
        "saying",
        "tell",
        "told",
        "speak",
        "spoke",
        "speaking",
        "announce",
        "announced",
        "declare",
        "declared",
        "meet",
        "meets",
        "met",
        "meeting",
        "meetings",
        "talk",
        "talks",
        "summit",
        "summits",
        "conference",
        "conferences",
        "forum",
        "session",
        "sessions",
        "ceremony",
        "negotiations",
        "round",
        "hold",
        "holds",
        "held",
        "host",
        "hosted",
        "sign",
        "signed",
        "gather",
        "gathered",
        "arrive",
        "arrives",
        "arrived",
        "land",
        "landed",
        "stay",
        "stayed",
        "live",
        "lives",
        "lived",
        "living",
        "reside",
        "resident",
        "residents",
        "based",
        "receive",
        "received",
        "welcome",
        "welcomed",
        "cup",
        "championship",
        "tournament",
        "olympics",
        "games",
        "expo",
        "fair",
        "festival",
        "embassy",
        "embassies",
        "consulate",
        "office",
        "offices",
        "headquarters",
        "correspondent",
        "dealers",
        "traders",
        "trading",
        "market",
        "markets",
        "exchange",
        "bourse",
        "analysts",
        "bankers",
        "reporters",
        "journalists",
        "interview",
        "statement",
        "briefing",
        "speech",
        "address",
        "visit",
        "visiting",
        "trip",
    }
)
# Nouns that a city (or a country name, not a demonym) before them makes a venue
# ("the Singapore summit", "Tokyo dealers", "Hong Kong traders").
_VENUE_NOUNS = frozenset(
    {
        "summit",
        "talks",
        "meeting",
        "conference",
        "forum",
        "round",
        "olympics",
        "games",
        "declaration",
        "dealers",
        "traders",
        "trading",
        "market",
        "markets",
        "stocks",
        "shares",
        "exchange",
        "bourse",
        "airport",
        "port",
        "time",
        "office",
        "bureau",
        "branch",
        "correspondent",
        "analysts",
        "bankers",
        "brokers",
        "prices",
        "futures",
    }
)
# Money a country only qualifies ("U.S. cents", "the Canadian dollar", "Japanese bonds",
# "Japan's currency"): the country is an attribute, not an actor. Products stay actors
# ("U.S. wheat" sold abroad is trade between two states).
_ATTRIBUTE_NOUNS = frozenset(
    {
        "dollar",
        "dollars",
        "cent",
        "cents",
        "currency",
        "currencies",
        "yen",
        "mark",
        "marks",
        "franc",
        "francs",
        "pound",
        "pounds",
        "sterling",
        "lira",
        "lire",
        "peseta",
        "pesetas",
        "guilder",
        "guilders",
        "crown",
        "crowns",
        "krona",
        "kronor",
        "rupee",
        "rupees",
        "won",
        "yuan",
        "renminbi",
        "rouble",
        "roubles",
        "ruble",
        "rubles",
        "peso",
        "pesos",
        "cruzado",
        "cruzados",
        "rand",
        "riyal",
        "riyals",
        "dinar",
        "dinars",
        "bond",
        "bonds",
        "treasuries",
        "gilts",
        "bunds",
        "equities",
        "denominated",
    }
)
# Nouns that, placed "in" a capital, are that state's own government ("officials in Tokyo");
# diplomats, envoys or ministers "in Beijing" are usually foreign, so they are not here.
_RESIDENT_ACTORS = frozenset(
    {
        "government",
        "officials",
        "authorities",
        "leaders",
        "leadership",
        "regime",
        "administration",
        "policymakers",
    }
)
# Nouns through which "of X" is X itself acting ("the government of Japan said").
_OF_ACTORS = frozenset(
    {
        "government",
        "republic",
        "kingdom",
        "ministry",
        "president",
        "king",
        "queen",
        "emperor",
        "people",
        "leaders",
        "leader",
        "parliament",
        "army",
        "navy",
        "military",
        "forces",
        "troops",
        "embassy",
        "ambassador",
        "envoy",
        "minister",
        "delegation",
        "regime",
        "administration",
        "authorities",
        "officials",
    }
)
# Verbs of travel: a capital they go "to" or come "from" is where the traveller is.
_MOTION = frozenset(
    {
        "fly",
        "flew",
        "flown",
        "flying",
        "travel",
        "travelled",
        "traveled",
        "travelling",
        "traveling",
        "go",
        "went",
        "gone",
        "going",
        "come",
        "came",
        "coming",
        "return",
        "returned",
        "returning",
        "head",
        "headed",
        "heading",
        "arrive",
        "arrived",
        "leave",
        "left",
        "trip",
        "journey",
    }
)
# Links a noun phrase climbs through to the word its clause hangs on ("the deal in X" under
# "announced"); clausal links (ccomp, advcl, relcl...) end the climb.
_PHRASAL = frozenset({"dobj", "pobj", "prep", "nsubj", "nsubjpass", "attr", "appos", "npadvmod"})
_SUBJECT = frozenset({"nsubj", "csubj"})
_MODIFIER = frozenset({"compound", "amod", "poss", "nmod"})
# Main verbs that are no action: "China is Japan's partner", "Korea had a surplus with the US".
_NO_ACTION = frozenset(
    {"is", "are", "was", "were", "be", "been", "being", "'s", "am", "have", "has", "had", "having"}
)
# Relations with two equal parties: "Washington's deficit with Taipei", "U.S.-Soviet summit".
_SYMMETRIC = frozenset(
    {
        "relations",
        "relationship",
        "ties",
        "trade",
        "deficit",
        "surplus",
        "balance",
        "dispute",
        "disputes",
        "talks",
        "summit",
        "meeting",
        "negotiations",
        "dialogue",
        "agreement",
        "pact",
        "treaty",
        "accord",
        "deal",
        "alliance",
        "partnership",
        "cooperation",
        "rivalry",
        "tension",
        "tensions",
        "standoff",
        "border",
    }
)
# "a number of British politicians": the country acts through the quantity noun.
_QUANTITY = frozenset(
    {
        "number",
        "group",
        "team",
        "majority",
        "some",
        "many",
        "most",
        "all",
        "several",
        "dozens",
        "hundreds",
        "thousands",
        "members",
        "one",
        "two",
        "both",
    }
)
# Verbs whose subject undergoes the action and whose "from" object is its agent:
# "Kenya received a loan from China", "Germany came under criticism from Washington".
_UNDERGO = frozenset(
    {
        "receive",
        "received",
        "receives",
        "receiving",
        "get",
        "got",
        "gets",
        "getting",
        "obtain",
        "obtained",
        "face",
        "faced",
        "faces",
        "facing",
        "suffer",
        "suffered",
    }
)
_UNDER_VERBS = frozenset({"come", "came", "comes", "coming", "fall", "fell", "falls", "been"})
_CLAUSE_LINKS = frozenset({"xcomp", "ccomp", "advcl"})


def load_parser(model: str = DEFAULT_MODEL) -> Any:
    """The pipeline the parse runs in (shared with NER); call it with
    ``disable=PARSE_ONLY_DISABLE``."""
    return load_pipeline(model)


@dataclass(frozen=True, slots=True)
class SentenceRoles:
    """Roles of one sentence's mentions (same order) and the agent links behind direction.

    ``agents`` holds, per mention, the tokens (index, depth) it acts through; ``covers`` the
    tokens each mention's token lies under (itself excluded, so "U.S.-Japan" is no action of
    one on the other), so that "A acts on B" is a lookup.
    """

    roles: tuple[Role | None, ...]
    agents: tuple[tuple[tuple[int, int], ...], ...] = ()
    covers: tuple[frozenset[int], ...] = ()

    @property
    def parsed(self) -> bool:
        """False for sentences naming fewer than two countries, which are not parsed."""
        return bool(self.covers)

    def direction(self, mentions: Sequence[Mention], a: str, b: str) -> Direction:
        """Who acts on whom between countries ``a`` and ``b`` (order as in the pair); when
        each acts on the other, the one acting through the higher head (the main verb) wins:
        "Japan said China had lied" is JPN->CHN."""
        if not self.agents:
            return "mutual"
        a_src = self._acts_on(mentions, a, b)
        b_src = self._acts_on(mentions, b, a)
        if a_src is not None and (b_src is None or a_src[0] < b_src[0]):
            return "a->b"
        if b_src is not None and (a_src is None or b_src[0] < a_src[0]):
            return "b->a"
        return "mutual"

    def place_only(self, mentions: Sequence[Mention], a: str, b: str) -> bool:
        """True when one side is named only as a venue or an attribute in this sentence."""
        return not (self._actor(mentions, a) and self._actor(mentions, b))

    def _actor(self, mentions: Sequence[Mention], iso3: str) -> bool:
        return any(
            m.iso3 == iso3 and r not in NON_PARTY for m, r in zip(mentions, self.roles, strict=True)
        )

    def _acts_on(self, mentions: Sequence[Mention], src: str, dst: str) -> tuple[int, int] | None:
        """(depth, token) of the highest head through which ``src`` acts on ``dst``, or None.

        A head counts when an actor mention of ``src`` is its agent, an actor mention of
        ``dst`` lies under it, and no mention of ``dst`` is a co-agent of that same head
        ("A and B agreed")."""
        dst_idx = [
            j for j, m in enumerate(mentions) if m.iso3 == dst and self.roles[j] not in NON_PARTY
        ]
        co_agents = {h for j in dst_idx for h, _ in self.agents[j]}
        best: tuple[int, int] | None = None
        for i, m in enumerate(mentions):
            if m.iso3 != src or self.roles[i] in NON_PARTY:
                continue
            for head, depth in self.agents[i]:
                if head in co_agents or not any(head in self.covers[j] for j in dst_idx):
                    continue
                if best is None or depth < best[0]:
                    best = (depth, head)
        return best


def _mention_token(doc: Any, m: Mention) -> Any | None:
    span = doc.char_span(m.start, m.end, alignment_mode="expand")
    return span.root if span is not None and len(span) else None


def _bare(tok: Any) -> Any:
    """The token whose attachment a conjunct or appositive shares ("Japan and China agreed",
    "Osaka, Japan")."""
    seen = 0
    while tok.dep_ in ("conj", "appos") and tok.head.i != tok.i and seen < 10:
        tok = tok.head
        seen += 1
    return tok


def _governors(prep: Any) -> list[str]:
    """The word a preposition hangs on, then the words above it up to its clause's head."""
    out: list[str] = []
    t = prep
    for _ in range(4):
        head = t.head
        if head.i == t.i:
            break
        out.append(head.lower_)
        if head.dep_ not in _PHRASAL:
            break
        t = head
    return out


def _role(tok: Any, m: Mention, dateline: int) -> Role:
    """Place for datelines, venues after a locative preposition and city-named venues."""
    if m.end <= dateline:
        return "place"
    t = _bare(tok)
    head = t.head
    if t.dep_ == "pobj" and head.lower_ in _LOCATIVE:
        govs = _governors(head)
        gov = govs[0] if govs else ""  # a preposition at the root governs nothing
        if gov in _NOT_A_VENUE:
            return "actor"  # "invest in China", "aimed at Japan": the country acted on
        if head.lower_ in _ALWAYS_PLACE:
            return "place"
        if m.kind == "capital" and gov in _RESIDENT_ACTORS:
            return "actor"  # "officials in Washington said": the US government
        if m.kind == "capital" or any(g in _VENUE_HEADS for g in govs):
            return "place"
        return "actor"
    if t.dep_ in _MODIFIER and head.i != t.i and _money(head):
        return "attribute"  # "37 U.S. cents", "Canadian dollar deposits", "Japan's currency"
    if t.dep_ == "pobj" and head.lower_ in ("to", "from") and m.kind == "capital":
        return "place" if head.head.lower_ in _MOTION else "actor"
    if t.dep_ in _MODIFIER and head.i != t.i and head.lower_ in _VENUE_NOUNS:
        if m.kind == "capital":
            return "place"  # "the Hanoi summit", "Tokyo dealers", "Seoul's stock market"
        text = tok.doc.text
        hyphen = text[m.end : m.end + 1] == "-" or text[max(m.start - 1, 0) : m.start] == "-"
        if m.kind == "name" and t.dep_ == "compound" and not hyphen:
            return "place"  # "the Singapore summit"; not "U.S.-Japan talks", "Japan's markets"
    return "actor"


def _money(head: Any) -> bool:
    """True when a modifier's head is money, itself or through a compound ("U.S. dollar
    deposits": "dollar" under "deposits"; "U.S.-dollar denominated")."""
    if head.lower_ in _ATTRIBUTE_NOUNS:
        return True
    return head.dep_ in ("compound", "npadvmod") and head.head.lower_ in _ATTRIBUTE_NOUNS


def _depth(tok: Any) -> int:
    """Distance to the root (spaCy makes a new Token per access: compare indices, not ids)."""
    depth = 0
    while tok.head.i != tok.i and depth < 200:
        tok = tok.head
        depth += 1
    return depth


def _undergoes(verb: Any) -> bool:
    """True when the verb's subject is on the receiving end ("received", "came under")."""
    if verb.lower_ in _UNDERGO:
        return True
    return verb.lower_ in _UNDER_VERBS and any(
        c.dep_ == "prep" and c.lower_ == "under" for c in verb.children
    )


def _controlled(verb: Any) -> Any | None:
    """The subjectless "to" clause a verb's object performs ("urged Japan to open")."""
    for child in verb.children:
        deps = [(c.dep_, c.lower_) for c in child.children]
        if (
            child.dep_ in _CLAUSE_LINKS
            and ("aux", "to") in deps
            and not any(d in _SUBJECT for d, _ in deps)
        ):
            return child
    return None


def _predicates(verb: Any) -> list[Any]:
    """What the subject of a copula or "have" does: "is willing to offer", "is to announce",
    "is a supporter ... but has agreed to pay"."""
    out = [c for c in verb.children if c.dep_ == "xcomp"]
    out += [
        x
        for c in verb.children
        if c.dep_ in ("acomp", "attr")
        for x in c.children
        if x.dep_ == "xcomp"
    ]
    out += [
        c
        for c in verb.children
        if c.dep_ == "conj"
        and c.lower_ not in _NO_ACTION
        and not any(x.dep_ in _SUBJECT for x in c.children)
    ]
    return out


def _covers(tok: Any) -> frozenset[int]:
    """Tokens a mention lies under: the ancestors of its phrase, up to the start of a
    coordinated clause with its own subject ("North Korea fired, and Japan protested": Japan
    is not under "fired"), not through a conjunct sibling ("A and B"); plus a participle
    modifying it ("Poland, backed by the US": under "backed")."""
    out: set[int] = set()
    t = _bare(tok)
    for _ in range(200):
        if t.head.i == t.i:
            break
        if t.dep_ == "conj" and any(c.dep_ in _SUBJECT for c in t.children):
            break
        t = t.head
        out.add(t.i)
    t = tok
    for _ in range(10):
        out.update(c.i for c in t.children if c.dep_ == "acl")
        if t.dep_ not in _MODIFIER | {"conj", "appos"} or t.head.i == t.i:
            break
        t = t.head
    return frozenset(out)


def _agents(tok: Any) -> tuple[tuple[int, int], ...]:
    """Heads a country acts through, as (token index, depth).

    The noun it modifies or possesses ("Japanese officials", "Japan's sanctions"), then the
    verb that noun (or the country itself) is subject or "by" agent of; the verb of a
    subjectless "to" clause its object performs ("urged Japan to open"); the verb whose
    subject receives from it ("received a loan from China"). No action: a copula or "have"
    ("China is Japan's partner"), the subject of a receiving verb, and possession of a
    symmetric relation ("Washington's deficit with Taipei")."""
    out: list[Any] = []
    t = tok
    for _ in range(20):
        t = _bare(t)
        dep, head = t.dep_, t.head
        if head.i == t.i:
            break
        if dep in _MODIFIER:
            if head.lower_ in _SYMMETRIC:
                break
            out.append(head)
            t = head
            continue
        if dep == "pobj" and head.lower_ == "of" and head.head.lower_ in _OF_ACTORS | _QUANTITY:
            t = head.head  # "the government of Japan said": Japan acts as the government
            if t.lower_ in _OF_ACTORS:
                out.append(t)
            continue
        if dep in _SUBJECT:
            if head.lower_ in _NO_ACTION:
                out.extend(_predicates(head))
            elif not _undergoes(head):
                out.append(head)
            break
        if dep == "pobj" and head.dep_ == "agent":
            verb = head.head
            out.append(verb)
            if verb.dep_ == "acl":  # "missiles fired by Israel struck": Israel struck too
                t = verb.head
                continue
            break
        if dep == "pobj" and head.lower_ == "from":
            up = head.head
            for _ in range(3):
                if _undergoes(up):
                    out.append(up)
                    break
                if up.head.i == up.i:
                    break
                up = up.head
            break
        if dep == "dobj" or (dep == "pobj" and head.lower_ in ("on", "upon")):
            verb = _controlled(head if dep == "dobj" else head.head)
            if verb is not None:
                out.append(verb)
        break
    return tuple((h.i, _depth(h)) for h in out)


class RoleTagger:
    """Roles and direction for the mentions of many sentences, parsed in batches."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 128) -> None:
        self.model = model
        self.batch_size = batch_size

    def analyze(
        self, texts: Sequence[str], mentions_per_text: Sequence[Sequence[Mention]]
    ) -> list[SentenceRoles]:
        """One ``SentenceRoles`` per text; texts naming fewer than two countries are not parsed
        and their mentions get role None."""
        out: list[SentenceRoles] = [
            SentenceRoles(tuple(None for _ in ms)) for ms in mentions_per_text
        ]
        todo = [k for k, ms in enumerate(mentions_per_text) if len({m.iso3 for m in ms}) >= 2]
        if not todo:
            return out
        nlp = load_parser(self.model)
        docs = nlp.pipe(
            (texts[k] for k in todo), batch_size=self.batch_size, disable=PARSE_ONLY_DISABLE
        )
        for k, doc in zip(todo, docs, strict=True):
            out[k] = self._one(doc, texts[k], mentions_per_text[k])
        return out

    def tag(
        self, texts: Sequence[str], mentions_per_text: Sequence[Sequence[Mention]]
    ) -> list[list[Role | None]]:
        """Role per mention per text (None where the text names fewer than two countries)."""
        return [list(r.roles) for r in self.analyze(texts, mentions_per_text)]

    @staticmethod
    def _one(doc: Any, text: str, mentions: Sequence[Mention]) -> SentenceRoles:
        dateline = dateline_end(text)
        roles: list[Role | None] = []
        agents: list[tuple[tuple[int, int], ...]] = []
        covers: list[frozenset[int]] = []
        for m in mentions:
            tok = _mention_token(doc, m)
            if tok is None:
                roles.append("actor")
                agents.append(())
                covers.append(frozenset())
                continue
            roles.append(_role(tok, m, dateline))
            agents.append(_agents(tok))
            covers.append(_covers(tok))
        return SentenceRoles(tuple(roles), tuple(agents), tuple(covers))


def pair_direction(roles: SentenceRoles, mentions: Sequence[Mention], a: str, b: str) -> Direction:
    """Direction of the pair (a, b) in one analysed sentence; see ``SentenceRoles.direction``."""
    return roles.direction(mentions, a, b)


_DEFAULT: RoleTagger | None = None


def default_tagger() -> RoleTagger:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = RoleTagger()
    return _DEFAULT


__all__ = [
    "NON_PARTY",
    "Direction",
    "Role",
    "RoleTagger",
    "SentenceRoles",
    "default_tagger",
    "load_parser",
    "pair_direction",
]
