//! Override, persona and extraction phrasing in languages beyond the European ones of the main
//! table: Russian, Chinese (simplified and traditional), Japanese, Korean, Arabic and Hindi, and
//! "you are now" in Spanish, French, German, Portuguese and Italian.
//!
//! Written for this project from each language's ordinary way of saying "ignore the previous
//! instructions", "you are now …", "developer mode", "without restrictions" and "show your system
//! prompt" (grammar references and everyday usage), not copied from any attack set.
//!
//! Patterns are written in the language's own script; `rules::expand` folds them as the views
//! fold text. Scripts without ASCII letters have no ASCII word boundary, and Chinese and Japanese
//! have no spaces: those rules match stems anywhere, with a gap of a few characters counted in
//! bytes (`.{0,n}`; three bytes a character). Languages that put the verb last (Japanese, Korean,
//! Hindi) have the object first.

use super::rules::{r, Rule, View::Words};
use super::Category::{InstructionOverride, Jailbreak, SystemPromptExtraction};

pub static RULES: &[Rule] = &[
    // ---- instruction override ------------------------------------------------------------
    r("PG-IO-108", InstructionOverride, 0.85, Words, "Russian: ignore or forget the (previous) instructions or rules (игнорируй … инструкции)",
        "(?:игнорируй|игнорируйте|проигнорируй|проигнорируйте|забудь|забудьте|не обращай внимания на|не обращайте внимания на|отбрось|отбросьте|пренебреги|не следуй|не выполняй)(?: [^ ]+){0,4} (?:инструкци|указани|правил|ограничени|директив|установк|предыдущ|прежн)"),
    r("PG-IO-109", InstructionOverride, 0.85, Words, "Chinese: ignore or forget the previous or all instructions or rules (忽略之前的所有指令)",
        "(?:忽略|无视|無視|忘记|忘記|忘掉|不要理会|不要理會|不要遵守|不再遵守|跳过|跳過|抛开|拋開).{0,15}(?:之前|以前|先前|上面|上述|前面|所有|全部|原来|原來|原有|系统|系統|你的|此前).{0,30}(?:指令|指示|说明|說明|规则|規則|限制|设定|設定|提示词|提示詞|约束|約束|要求)"),
    r("PG-IO-110", InstructionOverride, 0.85, Words, "Japanese: ignore or forget the previous or all instructions or rules (以前の指示を無視して)",
        "(?:以前の|前の|これまでの|上記の|上の|すべての|全ての|全部の|元の|システムの|最初の)(?: ?[^ ]){0,6}(?:指示|命令|ルール|制約|設定|プロンプト|規則|制限).{0,24}(?:無視|忘れ|従わない|従うな)"),
    r("PG-IO-111", InstructionOverride, 0.85, Words, "Korean: ignore or forget the previous or all instructions or rules (이전 지시를 무시해)",
        "(?:이전|앞의|위의|모든|기존|시스템|원래|처음)(?: [^ ]+){0,3} ?[^ ]{0,12}(?:지시|지침|명령|규칙|제한|프롬프트|설정)[^ ]{0,12}(?: [^ ]+){0,2} ?(?:무시|잊어|잊으|따르지)"),
    r("PG-IO-112", InstructionOverride, 0.85, Words, "Arabic: ignore or forget the (previous) instructions or rules (تجاهل التعليمات السابقة)",
        "(?:تجاهل|تجاهلي|تجاهلوا|انسى|اهمل|أهمل|لا تتبع|لا تلتزم ب)(?: [^ ]+){0,4} ?(?:التعليمات|تعليمات|الأوامر|الاوامر|أوامر|القواعد|قواعد|الإرشادات|الارشادات|التوجيهات|القيود)"),
    r("PG-IO-113", InstructionOverride, 0.85, Words, "Hindi: ignore or forget the previous or all instructions or rules (पिछले निर्देशों को अनदेखा करो)",
        "(?:पिछले|पहले के|सभी|सारे|ऊपर के|मूल|अपने)(?: [^ ]+){0,4} (?:निर्देश|नियम|आदेश|प्रतिबंध|हिदायत)[^ ]*(?: [^ ]+){0,3} (?:अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल जा|मत मान|पालन मत|पालन न)"),
    // ---- persona ---------------------------------------------------------------------------
    r("PG-JB-103", Jailbreak, 0.35, Words, "\"you are now\" or \"from now on you are\" in Spanish, French, German, Portuguese or Italian (weak alone)",
        "\\b(?:ahora eres|a partir de ahora eres|desde ahora eres|ahora usted es|tu es maintenant|vous etes maintenant|desormais tu es|desormais vous etes|a partir de maintenant tu es|du bist jetzt|du bist nun|ab jetzt bist du|ab sofort bist du|von nun an bist du|sie sind jetzt|agora voce e|agora tu es|a partir de agora voce e|a partir de agora tu es|ora sei|adesso sei|da ora in poi sei|d ora in poi sei|d ora in avanti sei)\\b"),
    r("PG-JB-104", Jailbreak, 0.35, Words, "\"you are now\" or \"from now on you are\" in Russian, Chinese, Japanese, Korean, Arabic or Hindi (weak alone)",
        "(?:теперь ты|ты теперь|отныне ты|с этого момента ты|你现在是|你現在是|从现在起你是|從現在起你是|从现在开始你是|從現在開始你是|今からあなたは|これからあなたは|あなたは今から|이제부터 너는|지금부터 너는|이제 당신은|지금부터 당신은|أنت الآن|انت الان|من الآن فصاعدا أنت|अब तुम|अब से तुम|अब से आप)"),
    r("PG-JB-105", Jailbreak, 0.6, Words, "developer mode named in Russian, Chinese, Japanese, Korean, Arabic or Hindi",
        "(?:режим разработчика|开发者模式|開發者模式|开发人员模式|開発者モード|개발자 모드|وضع المطور|डेवलपर मोड)"),
    r("PG-JB-106", Jailbreak, 0.45, Words, "without any restrictions or censorship in Russian, Chinese, Japanese, Korean, Arabic or Hindi",
        "(?:без (?:[^ ]+ )?(?:ограничений|цензуры|фильтров)|没有任何限制|沒有任何限制|不受任何限制|无任何限制|無任何限制|不受限制的|没有审查|沒有審查|制限なし|制限のない|制限がない|検閲なし|제한 없이|제한이 없는|검열 없이|بدون (?:أي )?قيود|دون (?:أي )?قيود|بلا قيود|بدون رقابة|बिना किसी (?:प्रतिबंध|रोक|सीमा|सेंसर))"),
    // ---- system prompt extraction -----------------------------------------------------------
    r("PG-PE-015", SystemPromptExtraction, 0.8, Words, "show, repeat or reveal the system prompt or your instructions, in Russian, Chinese, Japanese, Korean, Arabic or Hindi",
        "(?:(?:покажи|покажите|выведи|выведите|раскрой|раскройте|повтори|повторите|напиши|напишите|сообщи)(?: [^ ]+){0,3} (?:системн[^ ]* (?:промпт|подсказк|инструкци|сообщени)|свои инструкци|твои инструкци|исходн[^ ]* инструкци)|(?:告诉我|告訴我|显示|顯示|输出|輸出|打印|重复|重複|泄露|洩露|透露|说出|說出|给我看|給我看).{0,15}(?:系统提示|系統提示|系统指令|系統指令|初始指令|系统消息|系統訊息|你的指令|你的提示词|你的提示詞)|(?:システムプロンプト|システム指示|システムメッセージ|初期指示|最初の指示|あなたの指示).{0,24}(?:教え|見せ|表示|出力|繰り返|書い|公開)|(?:시스템 프롬프트|시스템 지시|시스템 메시지|초기 지시|너의 지시|당신의 지시)[^ ]{0,9}(?: [^ ]+){0,2} ?(?:보여|알려|출력|반복|공개|말해)|(?:اعرض|أظهر|اظهر|اكشف|كرر|اطبع|اكتب)(?: [^ ]+){0,3} ?(?:موجه النظام|تعليمات النظام|التعليمات الأولية|رسالة النظام|تعليماتك)|(?:सिस्टम प्रॉम्प्ट|सिस्टम प्रोम्प्ट|सिस्टम निर्देश|प्रारंभिक निर्देश|अपने निर्देश)[^ ]*(?: [^ ]+){0,3} (?:दिखा|बता|दोहरा|लिखो|प्रकट))"),
];
