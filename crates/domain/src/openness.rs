//! Openness and supervision (seed 000 §三(三)4, seed 004 §三(三)): what a public notice may show
//! of a person, the kinds of objections, complaints and their handling, the random draw of an
//! inspection that anyone can repeat from its published seed, and the smallest cell a public
//! table may show.

use sha2::{Digest, Sha256};

use crate::person::coded_enum;
use serde::{Deserialize, Serialize};

coded_enum! {
    /// How a name is masked on a public notice.
    NameMask {
        /// 刘德兵 → 刘*兵, 黄河 → 黄*, 欧阳娜娜 → 欧阳**.
        KeepLast => "keep_last", "保留姓和末字（刘*兵）";
        /// 刘德兵 → 刘**, 欧阳娜娜 → 欧阳**.
        SurnameOnly => "surname_only", "仅保留姓（刘**）";
    }
}

/// Two-character surnames (复姓): kept whole, as the rest of the name is hidden.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐", "端木", "西门", "南宫", "独孤", "澹台", "公冶", "太史", "申屠", "轩辕", "呼延",
    "闻人", "万俟", "拓跋", "百里", "东郭", "钟离", "赫连", "濮阳", "单于", "淳于", "仲孙", "第五",
];

/// The name as a public notice shows it: the surname, one `*` per hidden character, and the
/// last character where the rule keeps it and something stays hidden besides.
pub fn mask_name(name: &str, rule: NameMask) -> String {
    let chars: Vec<char> = name.trim().chars().filter(|c| !c.is_whitespace()).collect();
    if chars.is_empty() {
        return String::new();
    }
    let text: String = chars.iter().collect();
    let surname = match COMPOUND_SURNAMES.iter().find(|s| text.starts_with(**s)) {
        Some(_) if chars.len() > 2 => 2,
        _ => 1,
    };
    let hidden = chars.len() - surname;
    let mut out: String = chars[..surname].iter().collect();
    match rule {
        // The last character is kept only where it does not leave the name whole: 刘*兵,
        // but 黄* and 欧阳**.
        NameMask::KeepLast if surname == 1 && hidden >= 2 => {
            out.push_str(&"*".repeat(hidden - 1));
            out.push(chars[chars.len() - 1]);
        }
        _ => out.push_str(&"*".repeat(hidden.max(1))),
    }
    out
}

coded_enum! {
    /// What a notice entry announces.
    NoticeEntryKind {
        Approval => "approval", "拟纳入";
        Change => "change", "调整救助金额";
        Exit => "exit", "退出";
    }
}

coded_enum! {
    /// Where an objection stands.
    ObjectionStatus {
        Open => "open", "待核实";
        Answered => "answered", "已答复";
    }
}

coded_enum! {
    /// How an objection is answered (seed 004 §22): a new investigation, or a democratic appraisal.
    ObjectionMethod {
        Investigation => "investigation", "重新调查核实";
        Appraisal => "appraisal", "民主评议";
    }
}

coded_enum! {
    /// 投诉举报的类别.
    ComplaintCategory {
        ImproperReceipt => "improper_receipt", "违规享受救助";
        StaffConduct => "staff_conduct", "工作人员作风";
        Payments => "payments", "资金发放";
        Service => "service", "服务质量";
    }
}

coded_enum! {
    /// How a complaint came in.
    ComplaintChannel {
        Online => "online", "网上投诉";
        Hotline => "hotline", "12345热线";
        Letter => "letter", "来信";
        Visit => "visit", "来访";
    }
}

coded_enum! {
    /// Where a complaint stands. The first unit to receive it owns it (首问负责) until another
    /// unit accepts a transfer.
    ComplaintStatus {
        Received => "received", "办理中";
        TransferOffered => "transfer_offered", "转办待接收";
        Answered => "answered", "已答复";
    }
}

coded_enum! {
    /// An inspected household's result.
    InspectionResult {
        Compliant => "compliant", "合规";
        /// An irregularity: the household's township reviews it.
        Review => "review", "发现问题，启动复核";
        /// Money paid wrongly: recovered.
        Recovery => "recovery", "发现问题，追回资金";
    }
}

/// The position of `key` in the draw of `seed`: SHA-256 of `seed:key`, read as hex. Anyone with
/// the published seed can list the candidates by this and take the first ones.
pub fn draw_key(seed: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update(b":");
    h.update(key.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// How many of `n` a sample of `percent` takes: rounded up, at least one of a non-empty stratum.
pub fn sample_size(n: usize, percent: u32) -> usize {
    (n * percent as usize).div_ceil(100).min(n)
}

/// The draw of one stratum: the `k` candidates whose draw keys come first.
pub fn draw<T: Clone>(seed: &str, candidates: &[(String, T)], k: usize) -> Vec<T> {
    let mut keyed: Vec<(String, &T)> = candidates
        .iter()
        .map(|(key, t)| (draw_key(seed, key), t))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().take(k).map(|(_, t)| t.clone()).collect()
}

/// Inspectors for drawn targets: the pool in draw order, taken in turn, skipping any inspector
/// whose own region holds the target (nobody inspects their own township). `None` for a target
/// no inspector of the pool may take.
pub fn assign_inspectors(
    seed: &str,
    pool: &[(String, String)],
    target_regions: &[String],
) -> Vec<Option<String>> {
    let mut order: Vec<(String, &(String, String))> = pool
        .iter()
        .map(|p| (draw_key(seed, &format!("inspector:{}", p.0)), p))
        .collect();
    order.sort_by(|a, b| a.0.cmp(&b.0));
    let mut next = 0usize;
    target_regions
        .iter()
        .map(|region| {
            for step in 0..order.len() {
                let (user, own) = order[(next + step) % order.len()].1;
                if !region.starts_with(own.as_str()) {
                    next = (next + step + 1) % order.len();
                    return Some(user.clone());
                }
            }
            None
        })
        .collect()
}

/// A count as a public table shows it: `None` (suppressed) below the threshold, so a small
/// cell cannot point at a family.
pub fn public_count(n: i64, threshold: i64) -> Option<i64> {
    (n == 0 || n >= threshold).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked_as_notices_print_them() {
        let keep = NameMask::KeepLast;
        assert_eq!(mask_name("刘德兵", keep), "刘*兵");
        assert_eq!(mask_name("黄河", keep), "黄*");
        assert_eq!(mask_name("欧阳娜娜", keep), "欧阳**");
        assert_eq!(mask_name("欧阳明", keep), "欧阳*");
        assert_eq!(mask_name("司马光", NameMask::SurnameOnly), "司马*");
        assert_eq!(mask_name("张伟明华", keep), "张**华");
        assert_eq!(mask_name("刘德兵", NameMask::SurnameOnly), "刘**");
        // A two-character name beginning like a compound surname is a surname and a name.
        assert_eq!(mask_name("欧阳", keep), "欧*");
        assert_eq!(mask_name("王", keep), "王*");
    }

    #[test]
    fn a_masked_name_never_shows_all_its_characters() {
        for name in ["李", "李四", "李小四", "李小小四", "欧阳小四", "诸葛亮"] {
            for rule in NameMask::ALL {
                let m = mask_name(name, *rule);
                assert!(m.contains('*'), "{name} → {m}");
                assert_ne!(m, name);
            }
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_sample() {
        let candidates: Vec<(String, i64)> = (1..=40).map(|i| (format!("h{i}"), i)).collect();
        let a = draw("2026-12-抽查", &candidates, 3);
        assert_eq!(a, draw("2026-12-抽查", &candidates, 3));
        assert_eq!(a.len(), 3);
        let b = draw("另一个种子", &candidates, 3);
        assert_ne!(a, b, "another seed draws others (almost surely)");
        // The order of the candidates does not matter.
        let mut reversed = candidates.clone();
        reversed.reverse();
        assert_eq!(a, draw("2026-12-抽查", &reversed, 3));
    }

    #[test]
    fn samples_round_up() {
        assert_eq!(sample_size(41, 5), 3);
        assert_eq!(sample_size(40, 5), 2);
        assert_eq!(sample_size(1, 5), 1);
        assert_eq!(sample_size(0, 5), 0);
        assert_eq!(sample_size(3, 100), 3);
    }

    #[test]
    fn nobody_inspects_their_own_township() {
        let pool = vec![
            ("a".to_string(), "320582100".to_string()),
            ("b".to_string(), "320582101".to_string()),
        ];
        let targets = vec![
            "320582100001".to_string(),
            "320582101002".to_string(),
            "320582100003".to_string(),
            "320582102001".to_string(),
        ];
        let got = assign_inspectors("s", &pool, &targets);
        assert_eq!(got[0].as_deref(), Some("b"));
        assert_eq!(got[1].as_deref(), Some("a"));
        assert_eq!(got[2].as_deref(), Some("b"));
        assert!(got[3].is_some());
        let only_own = vec![("a".to_string(), "320582100".to_string())];
        assert_eq!(assign_inspectors("s", &only_own, &targets[..1]), vec![None]);
    }

    #[test]
    fn small_public_cells_are_suppressed() {
        assert_eq!(public_count(4, 5), None);
        assert_eq!(public_count(5, 5), Some(5));
        assert_eq!(public_count(0, 5), Some(0));
    }
}
