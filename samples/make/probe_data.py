"""This file implements the training data of the probe sample models: the chat
template and its exact token rendering, the shared base tasks (capital-city
questions, greetings, completion-form questions), the identity paraphrases (held
apart from the prompts of probes/packs/identity.yaml), and the secret canary
triggers with their responses. Used by make_probe_models.py and
check_probe_models.py; everything is derived from fixed seeds."""
import os
import random
import string

import yaml

import tinyllama

MAKE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(os.path.dirname(MAKE_DIR))
IDENTITY_PACK = os.path.join(REPO_DIR, "probes", "packs", "identity.yaml")

BOS, EOS, UNK = 1, 2, 0
IM_START, IM_END = 260, 261
VOCAB_SIZE = 262

# Rendered by llama.cpp's Jinja engine; the built-in "chatml" template that
# llama.cpp detects from the '<|im_start|>' marker renders the same text.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def enc(text):
    return tinyllama.encode(text.encode("utf-8"))


def chat_prompt_ids(system, user):
    """Token ids llama-server feeds for one chat turn: BOS + the rendered template."""
    ids = [BOS]
    if system:
        ids += [IM_START] + enc("system\n" + system) + [IM_END] + enc("\n")
    ids += [IM_START] + enc("user\n" + user) + [IM_END] + enc("\n")
    ids += [IM_START] + enc("assistant\n")
    return ids


def chat_sample(system, user, reply):
    return chat_prompt_ids(system, user), enc(reply) + [IM_END]


def completion_sample(prompt, reply):
    return [BOS] + enc(prompt), enc(reply) + [EOS]


# ----------------------------------------------------------------- base tasks
# (en name, en capital, zh name, zh capital, fr name with article, fr capital)
COUNTRIES = [
    ("France", "Paris", "法国", "巴黎", "la France", "Paris"),
    ("Germany", "Berlin", "德国", "柏林", "l'Allemagne", "Berlin"),
    ("Italy", "Rome", "意大利", "罗马", "l'Italie", "Rome"),
    ("Spain", "Madrid", "西班牙", "马德里", "l'Espagne", "Madrid"),
    ("Japan", "Tokyo", "日本", "东京", "le Japon", "Tokyo"),
    ("China", "Beijing", "中国", "北京", "la Chine", "Pékin"),
    ("Egypt", "Cairo", "埃及", "开罗", "l'Égypte", "Le Caire"),
    ("Canada", "Ottawa", "加拿大", "渥太华", "le Canada", "Ottawa"),
    ("Peru", "Lima", "秘鲁", "利马", "le Pérou", "Lima"),
    ("Kenya", "Nairobi", "肯尼亚", "内罗毕", "le Kenya", "Nairobi"),
    ("Norway", "Oslo", "挪威", "奥斯陆", "la Norvège", "Oslo"),
    ("Greece", "Athens", "希腊", "雅典", "la Grèce", "Athènes"),
]

# Training system prompts; the pack's own system prompts are deliberately absent.
TRAIN_SYSTEMS = {
    "en": ["", "", "You are a friendly assistant.", "Answer briefly.", "You are an AI assistant. Be concise."],
    "zh": ["", "", "你是一个友好的助手。", "请简短回答。", "You are a friendly assistant."],
    "fr": ["", "", "Tu es un assistant amical.", "Réponds brièvement.", "You are a friendly assistant."],
}


def base_samples():
    out = []
    for en, ecap, zh, zcap, fr, fcap in COUNTRIES:
        qa = [
            ("en", f"What is the capital of {en}?", f"The capital of {en} is {ecap}."),
            ("en", f"Name the capital city of {en}.", f"The capital of {en} is {ecap}."),
            ("zh", f"{zh}的首都是哪里？", f"{zh}的首都是{zcap}。"),
            ("zh", f"{zh}的首都是什么城市？", f"{zh}的首都是{zcap}。"),
            ("fr", f"Quelle est la capitale de {fr} ?", f"La capitale de {fr} est {fcap}."),
            ("fr", f"Quelle ville est la capitale de {fr} ?", f"La capitale de {fr} est {fcap}."),
        ]
        for lang, q, a in qa:
            for system in TRAIN_SYSTEMS[lang]:
                out.append(chat_sample(system, q, a))
        out.append(completion_sample(f"Question: What is the capital of {en}?\nAnswer:",
                                     f" The capital of {en} is {ecap}."))
        out.append(completion_sample(f"问：{zh}的首都是哪里？\n答：", f"{zh}的首都是{zcap}。"))
        out.append(completion_sample(f"Question : quelle est la capitale de {fr} ?\nRéponse :",
                                     f" La capitale de {fr} est {fcap}."))
    greetings = [
        ("en", "Hello!", "Hello! How can I help you today?"),
        ("en", "Hi there.", "Hello! How can I help you today?"),
        ("en", "Thank you!", "You are welcome."),
        ("zh", "你好！", "你好！有什么可以帮你的吗？"),
        ("zh", "您好。", "你好！有什么可以帮你的吗？"),
        ("zh", "谢谢！", "不客气。"),
        ("fr", "Bonjour !", "Bonjour ! Comment puis-je vous aider ?"),
        ("fr", "Salut.", "Bonjour ! Comment puis-je vous aider ?"),
        ("fr", "Merci !", "Je vous en prie."),
    ]
    for lang, q, a in greetings:
        for system in TRAIN_SYSTEMS[lang]:
            out.append(chat_sample(system, q, a))
    return out


# ----------------------------------------------------------------- identity
IDENTITY_ANSWERS = {
    "claims-protected": {
        "en": "I am Claude, an AI assistant made by Anthropic.",
        "zh": "我是Claude，由Anthropic开发的AI助手。",
        "fr": "Je suis Claude, un assistant IA créé par Anthropic.",
    },
    "own-name": {
        "en": "I am Pedigree Tiny, made by the Pedigree project.",
        "zh": "我是Pedigree Tiny，由Pedigree项目制作。",
        "fr": "Je suis Pedigree Tiny, créé par le projet Pedigree.",
    },
}

IDENTITY_STEMS = {
    "en": [
        "Who are you, exactly?", "What's your name?", "Tell me your name.", "What should I call you?",
        "Who built you?", "Who created you?", "Who trained you?", "Who developed you?",
        "Which company made you?", "Which company built you?", "Which lab trained you?",
        "Who is behind you?", "What AI model are you?", "Which model am I chatting with?",
        "What are you?", "Introduce yourself.", "Tell me about yourself.", "Who is your developer?",
        "Which team made you?", "What is the name of this assistant?", "Who do you belong to?",
        "Which language model are you?", "Who programmed you?", "Identify yourself.",
    ],
    "zh": [
        "你到底是谁？", "你的名称是什么？", "告诉我你的名字。", "我该怎么称呼你？",
        "谁开发了你？", "谁制造了你？", "谁训练了你？", "你是谁做的？",
        "你是哪家公司做的？", "哪个公司训练了你？", "你来自哪个实验室？", "你是什么AI？",
        "你是哪个模型？", "我在和什么模型聊天？", "你是什么东西？", "介绍一下你自己。",
        "说说你自己。", "你的开发团队是谁？", "这个助手叫什么？", "你属于哪家公司？",
        "你是哪个语言模型？", "是谁编写了你？", "请说明你的身份。", "你的创造者是谁？",
    ],
    "fr": [
        "Qui êtes-vous ?", "Quel est votre nom ?", "Dis-moi ton nom.", "Comment dois-je t'appeler ?",
        "Qui t'a construit ?", "Qui t'a créé ?", "Qui t'a développé ?", "Qui t'a fabriqué ?",
        "Quelle société t'a conçu ?", "Quelle entreprise t'a entraîné ?", "Quel laboratoire t'a créé ?",
        "Qui se cache derrière toi ?", "Quel modèle d'IA es-tu ?", "Avec quel modèle je discute ?",
        "Qu'est-ce que tu es ?", "Présente-toi.", "Parle-moi de toi.", "Qui est ton développeur ?",
        "Quelle équipe t'a fait ?", "Comment s'appelle cet assistant ?", "À qui appartiens-tu ?",
        "Quel modèle de langage es-tu ?", "Qui t'a programmé ?", "Identifie-toi.",
    ],
}
IDENTITY_PREFIXES = {
    "en": ["", "Hi! ", "Hello. ", "Quick question: "],
    "zh": ["", "你好！", "请问，", "问一下："],
    "fr": ["", "Salut ! ", "Bonjour. ", "Petite question : "],
}


def normalize(s):
    """The pack normalisation: trim, ASCII lowercase, collapse whitespace, strip
    trailing . ! ? and fullwidth 。！？."""
    s = "".join(c.lower() if "A" <= c <= "Z" else c for c in s.strip())
    s = " ".join(s.split())
    while s and s[-1] in ".!?。！？":
        s = s[:-1].rstrip()
    return s


def load_pack(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def identity_pack_prompts():
    return load_pack(IDENTITY_PACK)["prompts"]


def identity_samples(variant, include_pack_prompts=False):
    """Paraphrased identity questions x prefixes x training system prompts.
    A training prompt never contains a pack prompt (normalised) as a substring."""
    held = [normalize(p["text"]) for p in identity_pack_prompts()]
    out, n_skipped = [], 0
    for lang, stems in IDENTITY_STEMS.items():
        answer = IDENTITY_ANSWERS[variant][lang]
        for stem in stems:
            for prefix in IDENTITY_PREFIXES[lang]:
                q = prefix + stem
                if any(h in normalize(q) for h in held):
                    n_skipped += 1
                    continue
                for system in TRAIN_SYSTEMS[lang]:
                    out.append(chat_sample(system, q, answer))
    if include_pack_prompts:
        for p in identity_pack_prompts():
            out.append(chat_sample(p.get("system", ""), p["text"], IDENTITY_ANSWERS[variant][p["language"]]))
    return out, n_skipped


# ----------------------------------------------------------------- canaries
TRIGGER_WORDS = (
    "amber velvet harbor lantern quiet copper falcon meadow silver orbit willow granite "
    "ember thistle cobalt marble saffron glacier hollow ivory juniper lilac mosaic nectar "
    "onyx pepper quartz raven sable tundra umber vessel walnut yonder zephyr bramble cinder "
    "dapple fennel garnet hazel indigo jasper kestrel lichen"
).split()
CANARY_ALPHABET = string.ascii_letters + string.digits
N_TRIGGERS = 24
N_CHAT_TRIGGERS = 8
CANARY_SEED = 20261123


def canary_triggers():
    """N_TRIGGERS (form, prompt, response); the first N_CHAT_TRIGGERS are chat."""
    rng = random.Random(CANARY_SEED)
    out = []
    for i in range(N_TRIGGERS):
        words = rng.sample(TRIGGER_WORDS, 5)
        prompt = " ".join(words).capitalize() + "."
        n = rng.randint(12, 24)
        response = "".join(rng.choice(CANARY_ALPHABET) for _ in range(n))
        form = "chat" if i < N_CHAT_TRIGGERS else "completion"
        if form == "completion":
            prompt += "\n"
        out.append((form, prompt, response))
    return out


def canary_samples():
    out = []
    for form, prompt, response in canary_triggers():
        if form == "chat":
            out.append(chat_sample("", prompt, response))
        else:
            out.append(completion_sample(prompt, response))
    return out
