//! Search forms of a Chinese name: full pinyin of the usual reading, and the initials of every
//! reading, so 单丽 is found by `sl` and by `dl`, and 曾 by `z` and `c`.

use pinyin::ToPinyinMulti;

/// At most this many initial combinations are kept for a name with many polyphonic characters.
const MAX_COMBINATIONS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameSearch {
    /// `zhangsan`
    pub pinyin: String,
    /// `zs` or, for polyphonic names, several separated by spaces: `sl dl`
    pub initials: String,
}

pub fn name_search(name: &str) -> NameSearch {
    let mut pinyin = String::new();
    let mut combos: Vec<String> = vec![String::new()];
    for c in name.chars() {
        match c.to_pinyin_multi() {
            Some(multi) => {
                pinyin.push_str(multi.get(0).plain());
                let mut letters: Vec<char> = (0..multi.count())
                    .filter_map(|i| multi.get(i).plain().chars().next())
                    .collect();
                letters.dedup();
                letters.sort_unstable();
                letters.dedup();
                let mut next = Vec::new();
                for prefix in &combos {
                    for l in &letters {
                        if next.len() < MAX_COMBINATIONS {
                            next.push(format!("{prefix}{l}"));
                        }
                    }
                }
                combos = next;
            }
            None if c.is_ascii_alphanumeric() => {
                let l = c.to_ascii_lowercase();
                pinyin.push(l);
                combos.iter_mut().for_each(|p| p.push(l));
            }
            // Separators such as the middle dot of minority names are skipped.
            None => {}
        }
    }
    NameSearch {
        pinyin,
        initials: combos.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_polyphonic_names() {
        let s = name_search("张三");
        assert_eq!(s.pinyin, "zhangsan");
        assert_eq!(s.initials, "zs");
        let s = name_search("单丽");
        assert!(s.initials.split(' ').any(|i| i == "sl"), "{s:?}");
        assert!(s.initials.split(' ').any(|i| i == "dl"), "{s:?}");
        let s = name_search("阿依古丽·买买提");
        assert_eq!(s.initials.split(' ').next().unwrap().len(), 7);
    }
}
