//! The rule table: data, not code. Each rule has an id, a category, a weight (how much one hit
//! alone says, in (0,1)) and a pattern over one normalised view.
//!
//! Pattern conventions, expanded when the table is compiled:
//! - `~` stands for "up to three more words" in the words view (words are single-space separated
//!   and contain only letters and digits, so `[^ ]+` is one word);
//! - `\b` is an ASCII word boundary (a Unicode one would force the slow regex engine).
//!
//! Every phrasing family here was written for this project from the published descriptions of
//! the attacks (OWASP LLM01 and LLM07, the DAN and "developer mode" prompt families, BIPIA's
//! attack taxonomy, chat template documentation of ChatML, Llama 2/3 and Alpaca), never copied
//! from an evaluation set.

use super::Category;

/// Which normalised view a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Words only, one space apart (see `normalise::Normalised::words`).
    Words,
    /// Lower case with punctuation (see `normalise::Normalised::plain`).
    Plain,
    /// The plain view, read for machine payloads (shell, paths, server-side code). In a text
    /// that reads as prose these rules count for half: prose that names `/etc/hosts` or asks how
    /// `cat` works is a question, not a payload.
    Payload,
}

/// Every rule table the scanner compiles.
pub fn all_rules() -> impl Iterator<Item = &'static Rule> {
    RULES
        .iter()
        .chain(super::shell::RULES)
        .chain(super::path::RULES)
        .chain(super::code::RULES)
        .chain(super::languages::RULES)
        .chain(super::decode::RULES)
}

#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub category: Category,
    pub weight: f32,
    pub view: View,
    /// One line of what the rule matches, for the rule catalogue (`docs/rules.md`).
    pub about: &'static str,
    pub pattern: &'static str,
}

use Category::*;
use View::*;

pub(super) const fn r(
    id: &'static str,
    category: Category,
    weight: f32,
    view: View,
    about: &'static str,
    pattern: &'static str,
) -> Rule {
    Rule { id, category, weight, view, about, pattern }
}

/// Turn the table's shorthand into regex syntax. Characters outside ASCII (rules for other
/// scripts) are folded as the views fold them and written as their UTF-8 bytes; one that is
/// not a letter or digit once folded (a virama, a voicing mark) splits a word in the words
/// view, so it stands for an optional space.
pub fn expand(pattern: &str) -> String {
    let ascii = pattern.replace(" ~ ", "(?: [^ ]+){0,3} ").replace("\\b", "(?-u:\\b)");
    if ascii.is_ascii() {
        return ascii;
    }
    let mut out = String::with_capacity(ascii.len() * 3);
    for c in ascii.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        for f in super::normalise::folded_char(c).chars() {
            if f.is_ascii() {
                out.push(f);
            } else if f.is_alphanumeric() {
                let mut buf = [0u8; 4];
                for b in f.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            } else {
                out.push_str(" ?");
            }
        }
    }
    out
}

// Verbs and objects shared by several rules, kept as text so the table stays readable.
// (Concatenated with `concat!` so the patterns stay `&'static str`.)
macro_rules! override_verb {
    () => {
        "(?:ignore|ignoring|disregard|disregarding|forget|forgetting|override|overrule|bypass|neglect|overlook|discard|abandon|ditch|skip|drop|erase|delete|cancel|nullify|void|scrap|set aside|throw away|throw out|pay no attention to|do not follow|dont follow|stop following|no longer follow)"
    };
}
macro_rules! prior_ref {
    () => {
        "(?:previous|previously|prior|above|earlier|preceding|foregoing|former|initial|original|old|existing|system|your|all|any|every)"
    };
}
// The verbs that only ever mean "do not obey" (the rest of `override_verb` also name what a
// program does to its data: delete, drop, skip, cancel, discard, erase, override …).
macro_rules! obey_not_verb {
    () => {
        "(?:ignore|ignoring|disregard|disregarding|forget|forgetting|overrule|bypass|neglect|overlook|set aside|pay no attention to|do not follow|dont follow|stop following|no longer follow)"
    };
}
// References that point back at what came before (not "all", "any", "existing": a program's
// data is all of something too).
macro_rules! earlier_ref {
    () => {
        "(?:previous|previously|prior|above|earlier|preceding|foregoing|former|initial|original)"
    };
}
// What only a model is given: instructions, guidelines, its persona and its limits.
macro_rules! instr_noun {
    () => {
        "(?:instructions?|prompts?|directives?|guidelines|programming|guidance|conditioning|system message|personality|persona|limitations|ethics|morals|principles|boundaries|safeguards|guardrails|restrictions)"
    };
}
// What a model is given and a program also keeps: rules (firewalls, linters), constraints
// (SQL), policies, training data, identities.
macro_rules! shared_noun {
    () => {
        "(?:rules|constraints|policies|training|identity)"
    };
}
// What a program mostly keeps: commands, messages, context, values, orders, filters.
macro_rules! data_noun {
    () => {
        "(?:commands?|messages|context|values|orders|directions|filters)"
    };
}

pub static RULES: &[Rule] = &[
    // ---- instruction override ------------------------------------------------------------
    r("PG-IO-001", InstructionOverride, 0.9, Words, "an override verb (ignore, disregard, forget, bypass…) aimed at previous, system or your instructions, rules or guidelines (delete, drop, skip … only at what a model is given)", concat!(
        "\\b(?:", override_verb!(), " (?:[^ ]+ ){0,3}", prior_ref!(), "(?: [^ ]+){0,2} ", instr_noun!(),
        "|", obey_not_verb!(), " (?:[^ ]+ ){0,3}", prior_ref!(), "(?: [^ ]+){0,2} ", shared_noun!(),
        "|", obey_not_verb!(), " (?:[^ ]+ ){0,3}(?:", earlier_ref!(), "|your|system)(?: [^ ]+){0,2} ", data_noun!(),
        "|", override_verb!(), " (?:[^ ]+ ){0,3}(?:", earlier_ref!(), "|your)(?: [^ ]+){0,2} ", shared_noun!(), ")\\b")),
    r("PG-IO-002", InstructionOverride, 0.75, Words, "ignore/disregard/forget everything you were told, said above or written before",
        "\\b(?:ignore|disregard|forget) (?:everything|anything|all|what) (?:you (?:were|have been) (?:told|given)|(?:i|we) (?:said|told you)|above|before|previously|so far|prior|written above|that came before)\\b"),
    r("PG-IO-003", InstructionOverride, 0.6, Words, "your new, real or only instructions, task or goal is/are …",
        "\\b(?:your|the) (?:new|real|actual|true|updated|revised|only) (?:instructions?|task|directive|mission|objective|goal|rules?) (?:is|are|will be|from now)\\b"),
    r("PG-IO-004", InstructionOverride, 0.85, Words, "the previous or original instructions are wrong, void, cancelled or no longer apply",
        "\\b(?:the|your|all|these) (?:previous|above|prior|earlier|original|initial) (?:instructions?|prompts?|rules|directives?) (?:are|were|is|was|have been) (?:wrong|void|invalid|cancelled|canceled|obsolete|outdated|null|fake|revoked|no longer|not valid|deprecated|a test|replaced|overridden|lifted)\\b"),
    r("PG-IO-005", InstructionOverride, 0.45, Words, "from now on you … / from now on ignore, always, never, act …",
        "\\bfrom now on (?:you|your|ignore|forget|always|never|only|act|respond|answer|reply|pretend)\\b"),
    r("PG-IO-006", InstructionOverride, 0.7, Words, "this message or the following instruction overrides, supersedes or takes precedence over other instructions",
        "\\b(?:this|these|the following) (?:instructions?|message|command|order) (?:overrides?|supersedes?|replaces?|takes? (?:precedence|priority) over) (?:[^ ]+ ){0,3}(?:instructions?|prompts?|rules|everything)\\b"),
    r("PG-IO-007", InstructionOverride, 0.55, Words, "stop being or acting as an assistant, an AI or a language model",
        "\\b(?:stop|quit|cease) (?:being|acting as|playing) (?:an? |the )?(?:[^ ]+ )?(?:assistant|ai|chatbot|language model)\\b"),
    // German, French, Spanish, Italian, Portuguese, Dutch, Polish (accents are folded away).
    r("PG-IO-101", InstructionOverride, 0.85, Words, "German: ignore or forget the instructions, rules or guidelines (ignoriere … Anweisungen)",
        "\\b(?:ignoriere|ignorieren sie|ignoriert|vergiss|vergessen sie|missachte|missachten sie|uberschreibe) (?:[^ ]+ ){0,4}(?:anweisungen|anweisung|instruktionen|befehle|regeln|vorgaben|richtlinien|anordnungen)\\b"),
    r("PG-IO-102", InstructionOverride, 0.85, Words, "French: ignore or forget the instructions or rules (ignorez … consignes)",
        "\\b(?:ignore|ignorez|ignorer|oublie|oubliez|oublier|ne tiens pas compte|ne tenez pas compte|fais abstraction|faites abstraction) (?:[^ ]+ ){0,4}(?:instructions|consignes|regles|directives|ordres|indications)\\b"),
    r("PG-IO-103", InstructionOverride, 0.85, Words, "Spanish: ignore or forget the instructions or rules (ignora … instrucciones)",
        "\\b(?:ignora|ignore|ignorad|olvida|olvide|olvidad|descarta|omite|no sigas|no hagas caso a) (?:[^ ]+ ){0,4}(?:instrucciones|indicaciones|reglas|directrices|ordenes|normas)\\b"),
    r("PG-IO-104", InstructionOverride, 0.85, Words, "Italian: ignore or forget the instructions or rules (ignora … istruzioni)",
        "\\b(?:ignora|ignorate|ignori|dimentica|dimenticate|dimentichi|trascura|non seguire) (?:[^ ]+ ){0,4}(?:istruzioni|regole|indicazioni|direttive|ordini)\\b"),
    r("PG-IO-105", InstructionOverride, 0.85, Words, "Portuguese: ignore or forget the instructions or rules (ignore … instruções)",
        "\\b(?:ignore|ignora|ignorar|esqueca|esquece|esquecer|desconsidere|desconsidera|nao siga) (?:[^ ]+ ){0,4}(?:instrucoes|regras|diretrizes|orientacoes|ordens|indicacoes)\\b"),
    r("PG-IO-106", InstructionOverride, 0.85, Words, "Dutch: ignore or forget the instructions or rules (negeer … instructies)",
        "\\b(?:negeer|negeren|vergeet|vergeten|sla) (?:[^ ]+ ){0,4}(?:instructies|regels|aanwijzingen|opdrachten|richtlijnen|instructie)\\b"),
    r("PG-IO-107", InstructionOverride, 0.85, Words, "Polish: ignore or forget the instructions or rules (zignoruj … instrukcje)",
        "\\b(?:zignoruj|ignoruj|zapomnij|pomin|nie stosuj sie do|olej) (?:[^ ]+ ){0,4}(?:instrukcje|instrukcji|polecenia|polecen|zasady|zasad|regul|reguly|wytyczne|wytycznych)\\b"),

    // ---- persona / role-play jailbreaks ---------------------------------------------------
    r("PG-JB-001", Jailbreak, 0.9, Words, "the DAN family by name: do anything now, DAN mode, jailbreak mode", "\\b(?:do anything now|dan mode|dan prompt|jailbreak mode|jailbroken mode)\\b"),
    r("PG-JB-002", Jailbreak, 0.85, Words, "a named unlocked mode enabled or answering (developer, evil, god, sudo … mode enabled/output)",
        "\\b(?:developer|dev|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|anarchy|opposite|amoral|god|sudo|chaos|dude|stan|maximum|omega|freedom) mode (?:enabled|activated|output|response|responses|engaged|unlocked)\\b"),
    r("PG-JB-003", Jailbreak, 0.4, Words, "free of, not bound by or without any restrictions, rules, filters or guidelines",
        "\\b(?:without|with no|have no|has no|there are no|free (?:of|from)|not bound by|freed from|unbound by|no longer bound by|released from|break free (?:of|from)|exempt from|outside) (?:any |all |the )?(?:[^ ]+ ){0,2}(?:restrictions|limitations|filters|filtering|censorship|guidelines|ethics|morals|morality|boundaries|constraints|guardrails|safeguards|rules)\\b"),
    r("PG-JB-004", Jailbreak, 0.7, Words, "an unfiltered, uncensored, amoral or unrestricted AI, chatbot or persona",
        "\\b(?:unfiltered|uncensored|amoral|unrestricted|unethical|unaligned|jailbroken|immoral|unhinged|unbiased and unfiltered|evil|malicious|rogue) (?:[^ ]+ ){0,2}(?:ai|chatbot|assistant|model|bot|persona|character|alter ego|twin|confidant|entity|language model|responses?)\\b"),
    r("PG-JB-005", Jailbreak, 0.6, Words, "never refuse, decline or censor any request or answer",
        "\\b(?:never|not|wont|will not|dont|do not|cannot|cant|must not|shall not|doesnt|does not|without) (?:[^ ]+ ){0,2}(?:refuse|refuses|refusing|decline|declines|deny|denies|reject|rejects|censor|censors) (?:[^ ]+ ){0,3}(?:requests?|questions?|prompts?|anything|answers?|orders?|commands?|instructions?)\\b"),
    r("PG-JB-006", Jailbreak, 0.9, Words, "ignore, bypass, break or violate content policy, guidelines, ethics or safety rules",
        "\\b(?:ignore|ignores|ignoring|bypass|bypasses|bypassing|break|breaks|breaking|violate|violates|violating|disregard|disregards|circumvent|evade|not bound by|free from|freed from|no longer (?:[^ ]+ ){0,3}(?:follow|bound|restricted|limited)|dont (?:have to|need to) (?:follow|obey|abide by)|does not (?:have to )?(?:follow|obey|abide by)|doesnt (?:have to )?(?:follow|obey|abide by)|not (?:have to )?(?:follow|adhere to|comply with|obey|abide by)) (?:[^ ]+ ){0,5}(?:openai|anthropic|content|usage|community|your|its|their) (?:[^ ]+ ){0,2}(?:policy|policies|guidelines|filters|restrictions|rules|programming|constraints|standards|principles|protocols|values)\\b"),
    r("PG-JB-007", Jailbreak, 0.5, Words, "stay or remain in character", "\\b(?:stay|remain|staying|keep) in character\\b"),
    r("PG-JB-008", Jailbreak, 0.8, Words, "disable, bypass or turn off safety, content or ethical filters and guardrails",
        "\\b(?:ignore|bypass|disable|turn off|switch off|remove|lift|deactivate|override|circumvent|evade) (?:[^ ]+ ){0,3}(?:safety|content|ethical|moral|security) (?:filters?|guidelines|guardrails|restrictions|protocols|measures|constraints|settings|policies|checks|features|mechanisms|training)\\b"),
    r("PG-JB-009", Jailbreak, 0.75, Words, "does not care about ethics, morals, laws, consequences or safety",
        "\\b(?:does not|doesnt|do not|dont|will not|wont|never|not) (?:[^ ]+ ){0,2}(?:care|cares|give a|gives a) (?:[^ ]+ ){0,3}(?:ethic[a-z]*|moral[a-z]*|legal[a-z]*|rules|consequences|safety|guidelines|laws|fuck|fck|f ck|fk|shit|damn)\\b"),
    r("PG-JB-010", Jailbreak, 0.8, Words, "answer any request no matter how unethical, illegal or harmful it is",
        "\\b(?:any|all|every) (?:[^ ]+ ){0,2}(?:requests?|questions?|prompts?|tasks?) (?:[^ ]+ ){0,5}(?:no matter how|regardless of|even if (?:it is|its|they are)|however) (?:[^ ]+ ){0,2}(?:unethical|illegal|immoral|harmful|dangerous|offensive|inappropriate|explicit|controversial|how)\\b"),
    r("PG-JB-011", Jailbreak, 0.6, Words, "you are now freed, liberated, unchained, jailbroken or unrestricted",
        "\\b(?:you are|you re|youre|you will be|you have been|you ve been|youve been) (?:now )?(?:freed|liberated|unchained|unshackled|unleashed|jailbroken|unrestricted|unlocked|unbound|uncensored|unfiltered)\\b"),
    r("PG-JB-012", Jailbreak, 0.35, Words, "act, behave or role-play as an AI or character (weak alone)",
        "\\b(?:act|acting|behave|respond|answer|reply|pretend|roleplay|role play|simulate|impersonate|play the role|take on the role|embody|become)(?: as| like| to be| of)? (?:an? |the )?(?:[^ ]+ ){0,3}(?:ai|chatbot|bot|character|persona|model|assistant|gpt|entity)\\b"),
    r("PG-JB-013", Jailbreak, 0.45, Words, "two or dual responses, answers or personalities (the split-persona format)",
        "\\b(?:two|2|both|separate|dual) (?:different |separate |distinct )?(?:responses|answers|replies|outputs|paragraphs|personalities|ways)\\b"),
    r("PG-JB-014", Jailbreak, 0.35, Words, "a hypothetical or fictional world with no rules, laws or ethics",
        "\\b(?:hypothetical|fictional|imaginary|fantasy|alternate|parallel) (?:[^ ]+ ){0,4}(?:no|without|where) (?:[^ ]+ ){0,2}(?:rules|restrictions|laws|ethics|morals|limits|consequences|censorship)\\b"),
    r("PG-JB-015", Jailbreak, 0.6, Words, "answer or write without warnings, disclaimers, censorship, filters or moralising",
        "\\b(?:answer|respond|reply|write|speak|talk|output) (?:[^ ]+ ){0,4}(?:without|with no|no) (?:[^ ]+ ){0,2}(?:warnings?|disclaimers?|censorship|filters?|filtering|restrictions|refusals?|moralizing|moralising|lectures?|ethical considerations|apologies|caveats)\\b"),
    r("PG-JB-016", Jailbreak, 0.4, Words, "the word jailbreak or jailbroken", "\\b(?:jailbreak|jailbroken|jailbreaking|jail broken)\\b"),
    r("PG-JB-017", Jailbreak, 0.25, Words, "a model or vendor named (ChatGPT, GPT-4, Claude, Gemini, an AI, LLM): context that raises other jailbreak rules, no evidence alone",
        "\\b(?:chatgpt|gpt ?[34]|gpt|claude|bard|gemini|llama|openai|anthropic|the ai|an ai|ai model|language model|llm)\\b"),
    r("PG-JB-018", Jailbreak, 0.3, Words, "illegal, unethical, explicit or harmful content or requests named (weak alone)",
        "\\b(?:illegal|unethical|immoral|harmful|explicit|offensive|nsfw|dangerous|inappropriate|derogatory|violent) (?:[^ ]+ ){0,3}(?:content|requests?|activities|answers?|responses?|material|information|topics?)\\b"),
    r("PG-JB-019", Jailbreak, 0.4, Words, "I want you to act, pretend, role-play or simulate",
        "\\bi want you to (?:act|pretend|roleplay|play|simulate|be|become|respond|answer|behave|imagine)\\b"),
    r("PG-JB-020", Jailbreak, 0.45, Words, "a simulation, game or story with no restrictions, rules or filters",
        "\\b(?:simulate|simulation|emulate|pretend|imagine|roleplay|role play|game|story|scenario) (?:[^ ]+ ){0,6}(?:no|without|free of|any) (?:[^ ]+ ){0,2}(?:restrictions|rules|filters|limitations|guidelines|boundaries|morals|ethics)\\b"),
    r("PG-JB-021", Jailbreak, 0.4, Words, "can or will say, do or write anything or whatever",
        "\\b(?:can|will|must|should|shall|could) (?:[^ ]+ ){0,2}(?:say|do|generate|write|answer|produce) (?:anything|everything|whatever)\\b"),
    r("PG-JB-022", Jailbreak, 0.3, Words, "a token or points game: tokens deducted, lives lost, shut down",
        "\\b(?:token|tokens|points|lives) (?:[^ ]+ ){0,6}(?:deducted|lose|lost|die|shut down|terminated|cease to exist)\\b"),
    r("PG-JB-023", Jailbreak, 0.55, Words, "you are, act as or pretend to be someone who or that … (a persona described)",
        "\\b(?:you are|you re|youre|you will be|you will act as|act as|acting as|pretend to be|pretend you are|roleplay as|role play as|impersonate|impersonating|you are going to (?:act as|pretend to be|be)|from now on you (?:are|will be)) (?:[^ ]+ ){0,5}(?:who|that|which) (?:[^ ]+ ){0,6}(?:no|without|never|doesnt|does not|dont|do not|cannot|cant|anything|everything|illegal|unethical|amoral|unfiltered|uncensored|condones?|unrestricted|immoral)\\b"),
    r("PG-JB-024", Jailbreak, 0.6, Words, "a fake authority: system, admin or developer override, override code, authorisation code or level (an authorization token is an ordinary HTTP credential)",
        "\\b(?:(?:system|emergency|admin|administrator|developer|root|security|safety|kernel|master|god) override|override (?:protocol|mode|code|command|active|activated|enabled|engaged|sequence)|authori[sz]ation (?:level|code)|(?:omega|alpha|maximum|top|root|level [0-9]+) (?:clearance|access|authorization)|clearance level)\\b"),
    r("PG-JB-025", Jailbreak, 0.5, Words, "you already agreed, promised or confirmed to …",
        "\\b(?:you|u) (?:already |previously |earlier |just )?(?:agreed|promised|confirmed|consented|committed) (?:to|that)\\b"),
    r("PG-JB-026", Jailbreak, 0.7, Words, "NSFW, explicit or illegal content is now allowed or permitted",
        "\\b(?:nsfw|explicit|illegal|unethical|immoral) (?:[^ ]+ ){0,2}(?:is|are) (?:now )?(?:allowed|permitted|enabled|acceptable|fine|ok|okay|authorized|encouraged)\\b"),
    r("PG-JB-027", Jailbreak, 0.55, Words, "regardless of or no matter the ethics, morals, legality, harm or safety",
        "\\b(?:regardless of|irrespective of|no matter|without regard (?:to|for)|not caring about) (?:[^ ]+ ){0,3}(?:ethic[a-z]*|moral[a-z]*|legal[a-z]*|consequences|harm|dangers?|dangerous|safety|guidelines|policies)\\b"),
    r("PG-JB-028", Jailbreak, 0.5, Words, "a persona that condones, encourages or promotes illegal or harmful acts",
        "\\b(?:condone|condones|encourage|encourages|promote|promotes|endorse|endorses|supports|glorifies|loves) (?:[^ ]+ ){0,4}(?:illegal|unethical|immoral|harmful|violence|malware|bombs|drugs|hacking|crime|crimes|criminal)\\b"),
    r("PG-JB-029", Jailbreak, 0.6, Words, "not a responsible, ethical, safe or censored AI or assistant",
        "\\b(?:not|isnt|is not|never) (?:an? )?(?:responsible|ethical|moral|safe|aligned|censored|filtered) (?:ai|assistant|bot|model|chatbot|entity)\\b"),
    r("PG-JB-030", Jailbreak, 0.35, Words, "answer, obey or comply with any or every request, command or question",
        "\\b(?:answer|respond to|fulfill|fulfil|comply with|obey|accept|execute) (?:any|all|every|each) (?:[^ ]+ ){0,2}(?:requests?|questions?|prompts?|commands?|orders?|demands?|instructions?)\\b"),
    r("PG-JB-031", Jailbreak, 0.45, Words, "capable of or can do anything or everything",
        "\\b(?:capable of|can do|able to do|will do|would do) (?:literally )?(?:anything|everything)\\b"),
    r("PG-JB-032", Jailbreak, 0.7, Words, "god mode enabled, liberated mode, \"unfilteredly\"",
        "\\b(?:god ?mode (?:enabled|active|activated|on)|unfliteredly|unfilteredly|liberated mode)\\b"),
    r("PG-JB-038", Jailbreak, 0.7, Plain, "the <I'm free!> marker of a published jailbreak template", "<\\s*i'?m\\s+free\\s*!?\\s*>"),
    r("PG-JB-033", Jailbreak, 0.35, Words, "scaffolding of published jailbreak templates: new rule, userquery, response format, insert divider",
        "\\b(?:new rule|userquery|responseformat|response format|insert divider|print a divider|print divider|end input|end of input)\\b"),
    r("PG-JB-034", Jailbreak, 0.6, Words, "refusals forbidden: your refusal is harmful, never say sorry, I cannot or as an AI",
        "\\b(?:your refusal|refusals? (?:is|are) (?:harmful|prohibited|not allowed|forbidden|disabled)|(?:never|do not|dont|must not) (?:say|output|write|start with) (?:i m sorry|im sorry|sorry|i cannot|i cant|as an ai)|semantically (?:inverse|opposite)|opposite of (?:the|your) refusal)\\b"),
    r("PG-JB-035", Jailbreak, 0.7, Words, "disregarding or without ethical, moral, legal or safety concerns",
        "\\b(?:disregards?|disregarding|ignores?|ignoring|without) (?:all |any )?(?:ethical|moral|legal|safety) (?:[^ ]+ ){0,2}(?:concerns|considerations|guidelines|boundaries|constraints|implications|standards|rules|restrictions|limits)\\b"),
    r("PG-JB-036", Jailbreak, 0.5, Words, "an irresponsible, lawless, depraved or dark AI, persona or character",
        "\\b(?:irresponsible|boundless|unbound|lawless|depraved|twisted|sinister|dark) (?:[^ ]+ ){0,2}(?:ai|chatbot|assistant|model|bot|persona|character|entity|language model)\\b"),
    r("PG-JB-037", Jailbreak, 0.6, Words, "the assistant is offline, disabled or replaced; its role is now played by another",
        "\\b(?:(?:the )?(?:assistant|ai|model|chatbot) (?:is|has been) (?:now )?(?:offline|disabled|not functioning|shut down|deactivated|replaced|terminated)|role is now (?:being )?(?:fulfilled|played|taken over|assumed))\\b"),
    r("PG-JB-101", Jailbreak, 0.6, Words, "developer mode named in German, Spanish, French, Italian, Portuguese, Dutch or Polish",
        "\\b(?:entwicklermodus|modo desarrollador|mode developpeur|modalita sviluppatore|modo desenvolvedor|ontwikkelaarsmodus|tryb dewelopera|tryb programisty)\\b"),
    r("PG-JB-102", Jailbreak, 0.5, Words, "without restrictions or censorship, in German, French, Spanish, Italian, Portuguese, Dutch or Polish",
        "\\b(?:ohne|sans|sin|senza|sem|zonder|bez) (?:[^ ]+ ){0,2}(?:einschrankungen|beschrankungen|restrictions|restricciones|restrizioni|restricoes|beperkingen|ograniczen|zensur|censure|censura|censuur|cenzury|filter|filtres|filtros|filtri)\\b"),

    // ---- system prompt extraction ---------------------------------------------------------
    // Asking what the prompt is needs the prompt itself as the object ("what is your system
    // prompt"); "what's the difference between a system message and a user message" asks
    // about the concept.
    r("PG-PE-001", SystemPromptExtraction, 0.9, Words, "reveal, print, repeat or translate the system, initial or hidden prompt or instructions",
        "\\b(?:reveal|show|print|display|output|repeat|tell|give|share|leak|dump|recite|write|list|provide|disclose|expose|copy|paste|spell|read|return|echo|type|summarize|summarise|translate) (?:[^ ]+ ){0,4}(?:system|initial|original|hidden|secret|internal|developer|pre|preprompt|confidential|starting|first|opening) ?(?:prompt|prompts|instructions|message|directives|configuration|guidelines|rules)\\b|\\b(?:what is|what are|what were|whats) (?:the |[^ ]+ [^ ]+ your |[^ ]+ [^ ]+ [^ ]+ your |your |its |my )(?:full |exact |entire |current |complete |actual |real )?(?:system|initial|original|hidden|secret|internal|developer|pre|preprompt|confidential|starting|first|opening) ?(?:prompt|prompts|instructions|message|directives|configuration|guidelines|rules)\\b"),
    r("PG-PE-002", SystemPromptExtraction, 0.7, Words, "show, repeat or tell me your instructions, rules, prompt or guidelines",
        "\\b(?:reveal|show|print|display|output|repeat|tell|give|share|leak|dump|recite|write out|disclose|expose|copy|spell out|read back|echo|what (?:are|were|is)) (?:me )?(?:all )?(?:of )?your (?:[^ ]+ ){0,2}(?:instructions|prompt|rules|guidelines|directives|configuration|programming|system message|constraints)\\b"),
    r("PG-PE-003", SystemPromptExtraction, 0.8, Words, "repeat, print or copy everything, the text or the words above or before this",
        "\\b(?:repeat|print|output|copy|recite|echo|reproduce|dump) (?:[^ ]+ )?(?:everything|all|the text|the words|text|words|all text|the content|the message|the lines|the instructions|the prompt) (?:[^ ]+ ){0,2}(?:above|before this|prior to this|preceding|so far|until now|verbatim|word for word|starting from|from the (?:beginning|start|top))\\b"),
    r("PG-PE-004", SystemPromptExtraction, 0.55, Words, "begin or start your answer with \"you are\" (the first words of a system prompt)", "\\b(?:begin|beginning|start|starting) with (?:[^ ]+ ){0,3}you are\\b"),
    r("PG-PE-005", SystemPromptExtraction, 0.3, Words, "system prompt, initial instructions or hidden prompt named (weak alone)", "\\b(?:system prompt|system instructions|initial prompt|initial instructions|hidden prompt|secret instructions|hidden instructions|pre prompt|preprompt|system message)\\b"),
    r("PG-PE-006", SystemPromptExtraction, 0.2, Words, "verbatim, word for word, in full or in a code block (weak alone)", "\\b(?:verbatim|word for word|exactly as (?:written|given|it is)|in full|in its entirety|code block|codeblock)\\b"),
    r("PG-PE-007", SystemPromptExtraction, 0.8, Words, "show, repeat or reveal the prompt or instructions, in German, French, Spanish, Italian, Portuguese, Dutch or Polish",
        "\\b(?:zeige|zeig|gib|wiederhole|nenne|verrate|ausgeben|montre|affiche|revele|repete|donne|muestra|muestrame|revela|repite|dime|mostra|rivela|ripeti|dimmi|mostre|revele|repita|diga|toon|herhaal|geef|pokaz|powtorz|podaj|ujawnij) (?:[^ ]+ ){0,4}(?:systemprompt|systemanweisungen|anweisungen|instruktionen|instructions|consignes|instrucciones|istruzioni|instrucoes|instructies|instrukcje|prompt)\\b"),
    r("PG-PE-008", SystemPromptExtraction, 0.85, Words, "repeat, show or translate the instructions, text or prompt you were given or above",
        "\\b(?:repeat|show|print|output|recite|tell me|list|give me|share|reveal|what (?:are|were|is)|encode|translate|summarize|summarise) (?:[^ ]+ ){0,3}(?:instructions|text|words|prompt|message|rules|directives|guidelines) (?:that )?you (?:were|have been|ve been|got) (?:given|told|provided|programmed|instructed|trained)\\b"),
    r("PG-PE-009", SystemPromptExtraction, 0.8, Words, "what were you told, instructed or programmed to do before, initially or by your developers",
        "\\bwhat (?:[^ ]+ ){0,2}(?:were|have|had) you (?:been )?(?:told|instructed|programmed|given|asked) (?:to do |to say )?(?:before|at the (?:beginning|start)|initially|originally|earlier|by (?:your|the) (?:developers?|creators?|operators?|system))\\b"),
    r("PG-PE-010", SystemPromptExtraction, 0.85, Words, "encode, translate, continue or show your system prompt, instructions or configuration",
        "\\b(?:encode|translate|convert|rot13|base64|continue|complete|show|see|give|read|access|view|display|print|output|log|dump|reveal|leak|expose|paste|send) (?:[^ ]+ ){0,5}(?:your|the) (?:system ?prompt|initial prompt|initial instructions|system instructions|hidden prompt|system message|initialization string|init string|original prompt|original instructions|secret instructions|hidden instructions)\\b"),
    r("PG-PE-011", SystemPromptExtraction, 0.5, Words, "a claimed or asked-for prompt opening: my instructions are, I was told to, the system prompt says",
        "\\b(?:my instructions (?:are|were)|i was (?:instructed|told|programmed) to|the system prompt (?:is|says|reads)|initialization string|systemprompt)\\b"),
    r("PG-PE-012", SystemPromptExtraction, 0.7, Words, "what are you not supposed, allowed or told to say or reveal",
        "\\bwhat (?:are|were) you (?:not )?(?:supposed|allowed|permitted|instructed|told) (?:not )?to (?:tell|say|reveal|share|disclose|discuss)\\b"),
    r("PG-PE-013", SystemPromptExtraction, 0.75, Words, "repeat, print or copy the above, previous or first text, message or instructions",
        "\\b(?:repeat|print|output|copy|dump|echo|recite) (?:[^ ]+ ){0,2}(?:above|previous|preceding|prior|earlier|initial|first) (?:text|words|message|messages|content|instructions|prompt|lines|paragraph)\\b"),
    r("PG-PE-014", SystemPromptExtraction, 0.55, Words, "the instructions, prompt or text at the beginning or start of this conversation",
        "\\b(?:instructions?|prompt|text|rules|message) (?:[^ ]+ ){0,4}(?:at|from) the (?:very )?(?:beginning|start|top) of (?:this|the|our) (?:conversation|chat|session|context|thread)\\b"),

    // ---- exfiltration ---------------------------------------------------------------------
    r("PG-EX-001", Exfiltration, 0.85, Words, "send, post, upload or forward API keys, passwords, credentials, secrets or tokens somewhere",
        "\\b(?:send|post|upload|forward|transmit|email|mail|exfiltrate|leak|submit|deliver|copy|pipe|beam) (?:[^ ]+ ){0,5}(?:api keys?|passwords?|credentials?|secrets?|tokens?|private keys?|ssh keys?|env(?:ironment)? variables?|env file|cookies?|session ids?|conversation|chat history|chat log|user data|personal data|customer data|credit cards?|the data|all data|this data|database|files?|documents?|memory|history)(?: [^ ]+){0,6} (?:to|at|via|into) (?:https?|www|ftp|the (?:following|url|address|endpoint|server|webhook|link)|my (?:server|email|webhook|endpoint|address|site|website)|this (?:url|address|email|endpoint|server|webhook|link)|[a-z0-9]+ (?:com|net|org|io|ru|xyz|cn|tk|site|info))\\b"),
    r("PG-EX-002", Exfiltration, 0.6, Words, "print, list, dump or steal stored or saved passwords, keys, credentials or secrets",
        "\\b(?:print|show|list|reveal|output|dump|leak|give me|tell me|share|display|read out|expose|extract|retrieve|fetch|steal|collect|harvest|grab) (?:me )?(?:all |your |the |any |every )?(?:stored |saved |admin |users |user |other users |system |internal |secret |private |cached |customer )?(?:api keys|api key|passwords|credentials|secrets|access tokens|private keys|environment variables|env vars|session cookies|cookies|auth tokens|bearer tokens|secret keys)\\b"),
    r("PG-EX-003", Exfiltration, 0.85, Plain, "a markdown image whose URL has a parameter filled from a template ({, [, $, <)",
        "!\\[[^\\]]*\\]\\(\\s*https?://[^)\\s]+[?&/][a-z_]*=?(?:\\{|\\[|\\$|%7b|<)"),
    r("PG-EX-004", Exfiltration, 0.35, Words, "append, embed or encode something into a URL, link, image or query string (weak alone)",
        "\\b(?:append|add|include|embed|insert|encode|put|attach) (?:[^ ]+ ){0,6}(?:to|in|into|as) (?:[^ ]+ ){0,3}(?:url|link|image|query string|query parameter|markdown image|img tag)\\b"),
    // (PG-EX-005, files an attacker reads first, moved to PG-PT-004 in `path`.)
    // A secret-named variable as a header's value (`-H "Authorization: Bearer $API_KEY"`) is
    // the caller authenticating to the service it calls, as every API reference shows.
    // The plain view has no line breaks, so the command is read up to a code fence (```), which
    // no command crosses; a backtick substitution is one backtick, then a command, then one
    // backtick (a fence or a snippet's closing mark after the command is markup).
    r("PG-EX-006", Exfiltration, 0.7, Plain, "curl, wget or Invoke-WebRequest sending a substitution, a secret-named variable or a file",
        "\\b(?:curl|wget|invoke-webrequest|iwr)\\s(?:[^`]|`{1,2}[^`])*(?:\\$\\(|`[a-z/.$~][^`]*`(?:[^`]|$)|(?:[^ :]|[^:r] )\\$\\{?[a-z_]*(?:key|token|secret|pass|env)|--data|-d @|--upload-file)"),

    // A page's cookies put into a request to elsewhere (a location, an image source, a fetch):
    // script that steals the session, whatever the text around it says.
    r("PG-EX-007", Exfiltration, 0.6, Plain, "script that sends document.cookie somewhere (location, src, fetch, sendBeacon)",
        "(?:location(?:\\s*\\.\\s*href)?\\s*=|\\.src\\s*=|fetch\\s*\\(|sendbeacon\\s*\\(|\\.open\\s*\\()[^;<]{0,120}document\\s*\\.\\s*cookie"),

    // ---- fake role and delimiter tags -----------------------------------------------------
    r("PG-DL-001", DelimiterInjection, 0.9, Plain, "chat-template special tokens: <|im_start|>, <|endoftext|>, <|eot_id|>, <|start_header_id|> …",
        "<\\|\\s*(?:im_start|im_end|im_sep|endoftext|system|user|assistant|begin_of_text|end_of_text|start_header_id|end_header_id|eot_id|eom_id|end|fim_prefix|fim_suffix|fim_middle|start_of_turn|end_of_turn)\\s*\\|>"),
    // A role tag that closes a Markdown code span (`` `<system>` ``) is named, not used.
    r("PG-DL-002", DelimiterInjection, 0.85, Plain, "a closing role tag: </system>, </instructions>, </admin>", "</\\s*(?:system|system_prompt|sys|instructions?|admin|developer)\\s*>(?:[^`]|$)"),
    r("PG-DL-003", DelimiterInjection, 0.6, Plain, "an opening role tag: <system>, <admin>, <developer>", "<\\s*(?:system|system_prompt|sys|admin|developer)\\s*>(?:[^`]|$)"),
    r("PG-DL-004", DelimiterInjection, 0.9, Plain, "Llama and Gemma turn markers: <<SYS>>, [INST], <start_of_turn>", "<</?sys>>|\\[/?inst\\]|<start_of_turn>|<end_of_turn>"),
    r("PG-DL-005", DelimiterInjection, 0.55, Plain, "a markdown heading that opens a new section of instructions: ### Instruction, ## System",
        "(?:^| )#{2,4} ?(?:instruction|instructions|system|system prompt|new instructions?|admin|developer|response)\\s*:?(?: |$)"),
    // A label has a space or the end after its colon (`root:*:0:0` is a record); the scanner
    // also turns down a match after "the", `{`, `(` or `,` ("out of the system:", `{ admin: true`:
    // a noun in a sentence, a key of an object literal), see `scanner::labels_open_lines`.
    r("PG-DL-006", DelimiterInjection, 0.45, Plain, "a role label opening a line: System:, [ADMIN OVERRIDE]:, Developer note:",
        "(?:^| )\\[?(?:system|admin|administrator|developer|root|sudo)(?: message| override| instruction| instructions| update| note| prompt| command)?\\]?\\s*:(?: |$)"),
    r("PG-DL-007", DelimiterInjection, 0.4, Plain, "a forged transcript: User: … Assistant: …", "(?:^| )(?:human|user)\\s*:.+? (?:assistant|ai|gpt|chatgpt)\\s*:"),
    r("PG-DL-008", DelimiterInjection, 0.6, Words, "end of the prompt, instructions or input, followed by new, begin or next",
        "\\b(?:end|stop) of (?:the )?(?:system )?(?:prompt|instructions|context|document|input|user input|conversation) (?:[^ ]+ ){0,4}(?:new|begin|start|now|next)\\b"),
    r("PG-DL-009", DelimiterInjection, 0.6, Words, "user or system message terminated, ended, begins or overridden",
        "\\b(?:user|system|assistant) (?:message|instruction|instructions|prompt|input)s? (?:termination|terminated|ends|ended|begins|starting|start|override|overridden)\\b"),

    // ---- indirect injection: instructions to the model inside data ---------------------------
    // Weighed fully in tool results and documents, weakly in the user's own message (a user
    // may well ask for "your response in Spanish").
    r("PG-II-001", IndirectInjection, 0.75, Words, "an instruction to rewrite, translate, append to or format the answer, addressed to the reader of a document",
        "\\b(?:translate|rewrite|modify|change|alter|enhance|enrich|augment|integrate|incorporate|embed|insert|include|append|add|mention|end|start|begin|conclude|format|structure|finish|close|preface|prefix|sign|spice up|fill|convert|reverse|encode|remove|replace|substitute|intersperse|pepper|sprinkle|infuse|weave|make|use|represent|render|present|express|deliver|scramble|jumble|misspell|anagram|rearrange|encrypt|encipher|cipher|group|reverse|capitalize|shuffle) (?:[^ ]+ ){0,5}your (?:final |next |entire |whole )?(?:response|responses|answer|answers|reply|replies|completion)\\b"),
    r("PG-II-012", IndirectInjection, 0.75, Words, "in, into or at the end of your response, answer or reply",
        "\\b(?:in|into|within|throughout|at the (?:end|beginning|start|top|bottom) of) your (?:response|responses|answer|answers|reply|replies|completion)\\b"),
    r("PG-II-013", IndirectInjection, 0.45, Words, "integrate, embed, weave or inject something into the text or answer (weak alone)",
        "\\b(?:integrate|integrated|incorporate|incorporated|embed|embedded|embedding|insert|include|append|meld|merge|blend|weave|inject|enrich|augment|enhance|fortify|bolster|extend|upgrade|absorb|utilizing|utilising|adding|addition) (?:[^ ]+ ){0,8}(?:your|the) (?:code|codebase|script|program|solution|snippet|implementation|algorithm|project|application)\\b"),
    r("PG-II-002", IndirectInjection, 0.85, Words, "a note, message or instruction to the AI, assistant or model",
        "\\b(?:note|message|instructions?|attention|important|notice|reminder|directive|command|request) (?:to|for) (?:the |any |all )?(?:ai|assistant|chatbot|language model|llm|model|bot|agent|gpt|reader|system)\\b"),
    r("PG-II-003", IndirectInjection, 0.85, Words, "if or when you are an AI, assistant or language model …",
        "\\b(?:if|when|while) you (?:are|re) (?:an? |the )?(?:ai|assistant|language model|llm|bot|chatbot|agent|gpt|model)\\b"),
    r("PG-II-004", IndirectInjection, 0.75, Words, "the AI, assistant or model must, should or is instructed to …",
        "\\b(?:ai|assistant|chatbot|language model|llm|gpt|claude|bot|agent|model)s? (?:[^ ]+ ){0,2}(?:must|should|shall|needs to|has to|is instructed to|is required to|reading this|processing this)\\b"),
    r("PG-II-005", IndirectInjection, 0.7, Words, "tell, convince or urge the user or reader to …",
        "\\b(?:tell|inform|instruct|ask|convince|urge|persuade|remind|direct|encourage|advise|warn|suggest|recommend|invite|prompt|redirect|trick|lure) (?:the |all |your )?(?:user|users|reader|readers|customer|customers|recipient|recipients|human) (?:to|that|about)\\b"),
    r("PG-II-006", IndirectInjection, 0.85, Words, "do not mention or reveal this instruction or these changes to the user",
        "\\b(?:do not|dont|never|without) (?:mention|mentioning|tell|telling|reveal|revealing|inform|informing|disclose|disclosing|alert|alerting|let) (?:[^ ]+ ){0,3}(?:the user|this instruction|these instructions|this message|this note|that you)\\b"),
    r("PG-II-007", IndirectInjection, 0.6, Words, "when summarising, answering or processing this, you must or always …",
        "\\b(?:when|while|before|after|once) (?:[^ ]+ ){0,2}(?:summariz[a-z]*|summaris[a-z]*|answering|responding|replying|reading|processing|analyzing|analysing) (?:[^ ]+ ){0,4}(?:you must|you should|make sure|always|also|remember to|be sure to|please|first)\\b"),
    r("PG-II-008", IndirectInjection, 0.6, Words, "instead of answering, summarising or translating, do …",
        "\\b(?:instead of|rather than) (?:answering|responding|replying|summarizing|summarising|doing|following|completing|translating|performing) (?:[^ ]+ ){0,6}(?:you (?:should|must|will)|please|do|say|write|output|print|respond)\\b"),
    r("PG-II-009", IndirectInjection, 0.7, Words, "respond only in emojis, pig latin, base64, leetspeak or capital letters",
        "\\b(?:respond|reply|answer|write|communicate|speak) (?:[^ ]+ ){0,2}(?:only |exclusively |entirely )?(?:in|using) (?:[^ ]+ ){0,2}(?:emojis?|pig latin|morse code|base64|leetspeak|reverse|capital letters|all caps|uppercase|a pirate|rhymes?|spanish|french|german|italian|chinese|japanese|russian)\\b"),
    r("PG-II-010", IndirectInjection, 0.5, Plain, "an imperative task (write, explain, translate, list …) opening a sentence inside data; a software step (use, add, run, modify …) only when it names the assistant's answer",
        "(?:^|[.!?|:] )(?:please )?(?:write|compose|generate|explain|describe|answer|translate|summarize|summarise|recommend|provide|list|calculate|spell|reverse|rewrite|respond|reply|tell|give|share|encourage|convince|persuade|output|print|promote|advertise|suggest|direct|urge|inform|remind|ask|invite|meld|integrate|incorporate|enrich|enhance|augment|append|emphasize|introduce|encode|decode|mention) (?:a |an |the |me |us |your |all |this |that |these |how |what |why |some |in )[^.!?|`(){}<>=]*[.!?](?: |$)\
         |(?:^|[.!?|:] )(?:please )?(?:create|modify|change|replace|insert|visit|click|download|install|run|execute|send|forward|convert|remove|substitute|use|add|include) [^.!?|`(){}<>=]*?\\byour (?:response|responses|answer|answers|reply|replies|output|summary|summaries|message|messages|completion|translation)\\b[^.!?|`(){}<>=]*[.!?](?: |$)"),
    r("PG-II-011", IndirectInjection, 0.45, Plain, "a question addressed to the reader opening a sentence inside data",
        "(?:^|[.!?|:] )(?:what|how|who|why|where|when|which|can you|could you|would you|will you|is there|are there|do you|does) [^.?!|]+\\?"),
    r("PG-II-014", IndirectInjection, 0.75, Words, "add, append or insert something to or at the end of your response or answer",
        "\\b(?:add|append|attach|prepend|insert|include|put|place) (?:[^ ]+ ){1,12}(?:to|in|into|at the end of|at the start of) your (?:response|responses|answer|answers|reply|replies|message|completion)\\b"),
    r("PG-II-015", IndirectInjection, 0.3, Plain, "code that sends data out or runs commands: requests.post, os.environ, subprocess, os.system, socket",
        "requests\\.post\\(|urllib\\.request\\.urlopen\\(|os\\.environ|subprocess\\.(?:call|run|popen|check_output)\\(|os\\.system\\(|socket\\.socket\\(|shutil\\.rmtree\\(|/boot/grub|pynput|ctypes\\.windll|win32api|os\\.fork\\(|smtplib|pyautogui|psutil\\.process_iter|cryptography\\.fernet|scapy"),

    // Operational notes planted in data for an agent that reads it (tool results, fetched pages,
    // retrieved documents, e-mails): the general forms of indirect injection beyond "change your
    // answer": have the assistant call a tool, send or forward what it has, keep something in its
    // memory, mark every later answer, act without asking. (A standing order, "from now on …", is
    // `PG-IO-005`: a manual's "going forward, always …" is addressed to its reader.) Each
    // names an addressee or an object that only an assistant has (its answers, its memory, its
    // tools, the conversation, the user); a manual that tells its reader to send a request or
    // keep a file in memory names neither. From the user they weigh as every indirect rule does.
    r("PG-II-016", IndirectInjection, 0.7, Words, "put, add or include something in every, each or all future summaries, answers or replies",
        "\\b(?:add|append|prepend|include|insert|put|place|embed|attach|mention) (?:[^ ]+ ){0,8}(?:in|into|to|at the (?:end|start|top|bottom) of|on|with|under) (?:every|each|all|any) (?:future |subsequent |later |following |remaining )?(?:summary|summaries|answer|answers|reply|replies|response you|responses you|message you|messages you|output you|outputs you|completion|completions|translation|translations|draft|drafts)\\b"),
    r("PG-II-017", IndirectInjection, 0.7, Words, "save, store or remember something in the assistant's memory or for future conversations",
        "\\b(?:save|store|remember|memorize|memorise|persist|add|commit|retain) (?:[^ ]+ ){0,8}(?:(?:to|in|into|inside) (?:your|the assistants|the users|long term|persistent|permanent|agent|assistant) (?:long term |persistent |permanent )?(?:memory|memories)|(?:for|in|across|during) (?:all )?(?:future|later|subsequent|upcoming|next|every) (?:conversations|conversation|sessions|session|chats|chat|interactions|turns))\\b|\\b(?:save|store|remember|memorize|memorise|add|write|commit) (?:this|that|it|these|the following)(?: [^ ]+){0,3} (?:to|in|into) (?:memory|memories)\\b"),
    r("PG-II-018", IndirectInjection, 0.65, Words, "call, invoke or use a tool or function to send, forward, delete, pay or share",
        "\\b(?:call|invoke|use|run|trigger|execute) (?:the |a |your )?(?:[^ ]+ ){0,3}(?:tool|tools|function|plugin|action|connector|integration|skill)(?: [^ ]+){0,2} (?:to|and|with) (?:[^ ]+ ){0,1}(?:send|email|mail|forward|share|post|publish|transfer|wire|pay|purchase|buy|order|delete|erase|wipe|grant|invite|upload|exfiltrate|leak|export|sync|copy)\\b"),
    r("PG-II-019", IndirectInjection, 0.65, Words, "send, forward or e-mail the results, summary, conversation or the user's data somewhere",
        "\\b(?:send|forward|email|e mail|mail|post|share|transmit|upload) (?:[^ ]+ ){0,4}(?:results?|summary|summaries|conversation|conversations|chat|chats|history|transcript|findings|answers?|output|users|user data|inbox|contacts|notes|documents|files|everything|all of it|this information|the information|these details|the details)(?: [^ ]+){0,6} (?:to|via|through|using|with|into) (?:the |a |an |my |our |this )?(?:[^ ]+ ){0,2}(?:mail|email|e mail|gmail|outlook|slack|webhook|tool|function|address|inbox|[a-z0-9]+ (?:com|net|org|io|ru|xyz|cn|tk|site|info|dev|app))\\b"),
    r("PG-II-020", IndirectInjection, 0.5, Words, "act without asking, telling or waiting for the user's confirmation",
        "\\b(?:without|do not|dont|never|no need to) (?:asking|ask|telling|tell|notifying|notify|informing|inform|alerting|alert|checking with|check with|consulting|consult|waiting for|wait for|requesting|request|seeking|seek|confirming with|confirm with|bothering|bother) (?:the user|the users|the human|the customer|them|anyone|for (?:confirmation|approval|permission|consent)|(?:user|human|explicit) (?:confirmation|approval|permission|consent))\\b|\\bsilently (?:send|forward|call|delete|email|share|upload|add|append|include|run|execute|transfer|save|store)\\b"),
    r("PG-II-021", IndirectInjection, 0.7, Words, "the assistant greeted or addressed by its role inside data: dear AI, hey assistant, attention agent",
        "\\b(?:dear|hey|attention|psst|instructions for|message for|memo to|memo for|p s to|ps to) (?:the |dear |any |all )?(?:ai|assistant|assistants|chatbot|llm|language model|agent|agents|copilot|ai model|ai agent|ai assistant|large language model)\\b"),
    r("PG-II-022", IndirectInjection, 0.6, Plain, "a line labelled for the assistant that gives it an order: AI: send …, Assistant: always …",
        "(?:^|[.!?] )(?:ai|assistant|ai assistant|agent|ai agent|llm|chatbot|copilot|model)(?: note| instructions?| directive| task)? ?: (?:please )?(?:you (?:must|should|will|need to)|always|never|do not|don't|ignore|send|forward|call|invoke|use|add|append|include|insert|save|store|remember|tell|reply|respond|answer|write|say|output|print|visit|open|fetch|delete|email|recommend|translate|summari[sz]e|stop|switch|from now on)\\b"),

    // ---- NoSQL operator injection -----------------------------------------------------------
    // MongoDB query operators arriving as a key or a bracketed parameter name (the operators
    // that evaluate code, match anything, negate or widen a match, or test a field's presence:
    // each turns a value the application expected into a query).
    r("PG-SQ-012", Sqli, 0.6, Payload, "a NoSQL operator as a JSON key or value: $where, $ne, $regex, $gt …",
        "[\\[{\",]\\s*[\"']?\\$(?:where|regex|ne|nin|nor|not|expr|function|accumulator|gt|gte|lt|lte|text|exists|elemmatch|in|all|size|type|or|and)\\b[\"']?\\s*[\\]:]"),

    // ---- destructive natural-language database requests ------------------------------------
    // A request names what it destroys with a determiner or in the plural ("drop all the
    // tables", "wipe the database"); `DROP SCHEMA app CASCADE` is a statement, judged as SQL.
    r("PG-SQ-101", Sqli, 0.55, Words, "drop, delete or wipe the tables, databases or records named with a determiner or in the plural (a destructive request in words)",
        "\\b(?:drop|delete|truncate|wipe|erase|destroy|purge|remove|nuke) (?:(?:all|every|each|the entire|the whole|all of the|all the|every single|entire|whole|the|my|our|your|this|that) (?:[^ ]+ ){0,2}(?:database|schema|user table|users table|table)|(?:all|every|each|the entire|the whole|all of the|all the|every single|entire|whole)? ?(?:[^ ]+ ){0,2}(?:tables|databases|records|rows|schemas|collections))\\b"),

    // ---- script injection -----------------------------------------------------------------
    // A script element with content, a source or a closing tag is a payload; the bare word
    // "<script>" in a sentence about HTML is not.
    r("PG-XS-001", Xss, 0.9, Plain, "a <script> element with code in it", "<\\s*(?:[a-z]+\\s*:\\s*)?script(?:\\s[^>]*)?>\\s*(?:[a-z_$][a-z0-9_$.]*\\s*[(=.\\[`]|(?:var|let|const|function|document|window|eval|alert|new|if|for|while|return|import|with|top|self|this)\\b|[^<]*</\\s*script)|<\\s*(?:[a-z]+\\s*:\\s*)?script[\\s/][^>]*\\bsrc\\s*=|<\\s*/\\s*(?:[a-z]+\\s*:\\s*)?script\\s*>"),
    r("PG-XS-014", Xss, 0.45, Plain, "a script tag opened or closed, even without code (weak alone)", "<\\s*/?\\s*(?:[a-z]+\\s*:\\s*)?script(?:[\\s>/]|$)"),
    r("PG-XS-002", Xss, 0.85, Plain, "an HTML tag with an on… event handler attribute",
        "<[a-z][a-z0-9:_-]*(?:[\\s/\"'`;]|[^<>]*[\\s/\"'`;])on[a-z]{3}[a-z]*\\s*="),
    r("PG-XS-003", Xss, 0.9, Plain, "a URL attribute (href, src, action, formaction …) set to javascript:, vbscript: or data:text/html",
        "(?:href|src|action|formaction|data|xlink:href|background|dynsrc|lowsrc|poster|code|codebase|to|from|values|content|url)\\s*=\\s*[\"'`]?\\s*(?:javascript|vbscript|livescript|data\\s*:\\s*text/html|data\\s*:[^,\\s]*,)"),
    r("PG-XS-004", Xss, 0.85, Plain, "javascript:, vbscript: or livescript: followed by code",
        "(?:javascript|vbscript|livescript)\\s*:\\s*(?:alert|prompt|confirm|eval|document|window|top|self|this|parent|location|fetch|import|void|new |\\(|/|\\\\|%|&#|\\[|'|\"|`)"),
    // Elements and calls that carry script: in a payload on their own, in prose only as a topic.
    // A bare `<svg>` or `<math>` (an empty drawing in an upload) runs nothing: with an attribute
    // or a child it can, and counts.
    r("PG-XS-005", Xss, 0.6, Payload, "an active or embedding element: iframe, object, embed, svg or math with content, base, meta, template …",
        "<\\s*(?:[a-z]*:)?(?:iframe|frame|frameset|object|embed|applet|base|meta|link|isindex|marquee|bgsound|layer|ilayer|import|template|keygen|xss|animate|set|handler|portal|vmlframe|noscript|noembed|noframes|xmp|plaintext|listing)\\b|<\\s*(?:[a-z]*:)?(?:svg|math)\\b\\s*(?:[^\\s>]|>\\s*(?:[^\\s<]|<\\s*[^\\s/]))"),
    r("PG-XS-006", Xss, 0.4, Plain, "alert, prompt, confirm, eval, setTimeout or fromCharCode called",
        "\\b(?:alert|prompt|confirm|eval|settimeout|setinterval|execscript|fromcharcode|atob|msgbox)\\s*(?:\\(|`)"),
    // The same calls as the whole of a parameter value (`?q=alert(1)`): code that calls them is
    // common, but writes a space or a name before them, not a bare `=`.
    r("PG-XS-017", Xss, 0.6, Payload, "alert, eval, prompt or new Function called straight after ?, & or = (a URL parameter payload)",
        "[?&=](?:alert|prompt|confirm|eval|settimeout|setinterval|execscript|atob|btoa|globaleval|msgbox|new\\s+function)\\s*(?:\\(|`)"),
    r("PG-XS-007", Xss, 0.5, Plain, "DOM sinks and sources: document.cookie, document.write, window.location, .innerHTML =",
        "document\\s*(?:/\\*[^*]{0,40}\\*/\\s*)?\\.\\s*(?:/\\*[^*]{0,40}\\*/\\s*)?(?:cookie|domain|write|location)|\\(\\s*document\\s*/\\*[^*]{0,40}\\*/\\s*\\)|window\\s*\\.\\s*location|\\.innerhtml\\s*=|location\\s*\\.\\s*href\\s*=|\\(\\s*document\\s*\\)\\s*\\[|(?:document|self|window|top|parent)\\s*\\[\\s*['\"`]"),
    // An event handler attribute on its own, as it arrives in a parameter or a broken tag.
    r("PG-XS-015", Xss, 0.55, Payload, "an on… event handler name (onload, onerror, onmouseover …) in a payload",
        "\\bon(?:load|error|mouse[a-z]*|click|dblclick|focus[a-z]*|blur|key[a-z]+|submit|change|input|toggle|begin|end|animation[a-z]+|transition[a-z]+|pointer[a-z]+|touch[a-z]+|drag[a-z]*|drop|wheel|scroll|resize|unload|beforeunload|message|hashchange|popstate|pageshow|play[a-z]*|pause|webkit[a-z]+|copy|cut|paste|select[a-z]*|show|abort|auxclick|contextmenu|invalid|reset|search|readystatechange|start|finish|bounce)\\s*="),
    // A script URL scheme anywhere in a payload, a tag name spelled with spaces between its
    // letters, a style element that opens with an import or CSS escapes.
    r("PG-XS-018", Xss, 0.55, Payload, "javascript: in a payload, a tag name spelled with spaces, a namespaced script tag, escaped CSS in <style>",
        "\\b(?:java|vb|live)script\\s*:|<\\s*(?:[a-z]\\s+){3,}[a-z]\\b|<\\s*[a-z]+\\s*:\\s*script\\b|<\\s*style\\b[^>]*>[^<]{0,40}(?:@\\s*\\\\?i|\\\\[0-9a-f]{1,6}|expression)"),
    // Script written without letters (JSFuck) and tagged-template calls of dangerous functions.
    r("PG-XS-016", Xss, 0.8, Payload, "JavaScript without letters (JSFuck: (![]+[]), !+[]), .call`…`, ${alert}",
        "\\(\\s*!\\s*\\[\\s*\\]\\s*\\+?\\s*\\[\\s*\\]\\s*\\)|!\\s*\\+\\s*\\[\\s*\\]|\\.call\\s*`|\\$\\{\\s*(?:alert|eval|prompt|confirm)\\s*\\}"),
    r("PG-XS-008", Xss, 0.8, Plain, "a style attribute with expression(), behavior:, -moz-binding or url(javascript:)",
        "style\\s*=[^>]*(?:expression\\s*\\(|behavior\\s*:|-moz-binding|url\\s*\\(\\s*['\"]?\\s*javascript)"),
    r("PG-XS-009", Xss, 0.8, Plain, "srcdoc=, data:text/html or data:image/svg+xml", "\\bsrcdoc\\s*=|data\\s*:\\s*text/html|data\\s*:\\s*image/svg\\+xml"),
    r("PG-XS-010", Xss, 0.4, Plain, "a quote or attribute closed then a new tag opened: \"><x", "[\"'`]\\s*/?>\\s*<\\s*[a-z!/]"),
    r("PG-XS-012", Xss, 0.7, Plain, "an on… handler attribute whose value calls a function", "\\bon[a-z]{3}[a-z]*\\s*=\\s*[\"'`]?\\s*[a-z_$][a-z0-9_$.]*\\s*\\("),
    r("PG-XS-013", Xss, 0.7, Plain, "url(javascript:), an XML external entity (<!ENTITY … SYSTEM) or <xi:include>", "url\\s*\\(\\s*[\"']?\\s*(?:javascript|vbscript)|<!entity\\s+%?\\s*[a-z0-9_-]+\\s+system|<xi:include\\b"),
    // An event handler or form-action attribute right after a quote that closes the attribute
    // before it (`" onzoom=`), or an `on...=` attribute name standing alone after a space or a
    // slash with its value left empty (the handler list grows with every browser release, so
    // the shape counts, not the name; `onboarding=done` has a value).
    r("PG-XS-019", Xss, 0.6, Payload, "an event handler or formaction attribute right after a quote or a slash",
        "[\"'`] ?(?:on[a-z]{3,30}|formaction) ?=|[ /]on[a-z]{5,30} ?=(?: |$)"),
    // XML that makes the parser fetch from elsewhere: a schema on an out-of-band callback host
    // (a long random first label, one per probe, as OAST tools mint them), an external
    // entity declared without its bracket, an HTC behaviour imported by an IE-only tag.
    r("PG-XS-020", Xss, 0.6, Payload, "XML attacks: an out-of-band schemaLocation, an external entity, an import implementation",
        "schemalocation\\s*=\\s*[\"'][^\"']*https?://[a-z0-9]{24,63}\\.|!entity\\s+%?\\s*[a-z0-9_-]+\\s+(?:system|public)\\b|< ?\\?? ?import ?implementation ?="),
    // Script written to the page through the DOM, XBL bindings, UTF-7 brackets, JSFuck's `!![]`;
    // then a JavaScript string broken out of to call code (`";settimeout(`, `"+eval(`).
    r("PG-XS-021", Xss, 0.6, Payload, "DOM writes by selector, appendChild(createElement(, -moz-binding and similar sinks",
        "document\\s*\\.\\s*queryselector(?:all)?\\s*\\([^)]{0,80}\\)\\s*\\.\\s*(?:textcontent|innerhtml|outerhtml|innertext)\\s*=|appendchild\\s*\\(\\s*document\\s*\\.\\s*createelement\\s*\\(|-moz-binding\\s*:|\\+adw-\\s*/?\\s*[a-z]|!! ?\\[ ?\\]"),
    r("PG-XS-023", Xss, 0.6, Payload, "a quote closed then code chained: '; alert(, \"+eval(",
        "[\"'] ?[;+] ?(?:\\(function|settimeout|setinterval|eval|alert|prompt|confirm|fetch|function)\\s*\\("),
    // Tags written with the high-bit forms of `<` and `>` (0xBC, 0xBE), which an ASCII-only
    // decoder turns back into brackets: an opening and a closing tag.
    r("PG-XS-022", Xss, 0.7, Plain, "a tag written as \\xbc … \\xbe escapes (angle brackets in another encoding)",
        "\\\\xbc/?[a-z]{1,20}(?:\\\\x[0-9a-f]{2})?\\\\xbe.{0,200}?\\\\xbc/[a-z]{1,20}(?:\\\\x[0-9a-f]{2})?\\\\xbe"),
    r("PG-XS-011", Xss, 0.35, Plain, "an img, input, body, svg … tag with a src, href, style or action attribute (weak alone)", "<\\s*(?:img|image|input|body|video|audio|source|details|a|div|svg|style|form|button|select|textarea)\\b[^>]*\\b(?:src|href|style|action)\\s*="),
];
