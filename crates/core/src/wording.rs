//! Text meant for people must not show the program's own names for things (`selfDelete`,
//! `wiped_locally`): [`code_words`] finds them, for the tests of every report, notification and
//! audit entry.

/// The words of `text` that look like code identifiers: camelCase (`viaMaster`) or snake_case
/// (`held_for_retry`). URLs, paths, key hints (`BCQH…Z9Z9`) and `quoted commands` are not words.
pub fn code_words(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut in_command = false;
    for token in text.split_whitespace() {
        // A `latchkey confirm-deleted 'label'` command may span several tokens.
        let ticks = token.matches('`').count();
        let skip = in_command || ticks > 0;
        if ticks % 2 == 1 {
            in_command = !in_command;
        }
        if skip || token.contains("://") || token.contains('/') || token.contains('…') || token.contains('@') {
            continue;
        }
        let word = token.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        if is_code_word(word) {
            found.push(word);
        }
    }
    found
}

fn is_code_word(word: &str) -> bool {
    let chars: Vec<char> = word.chars().collect();
    let snake = chars.windows(3).any(|w| w[0].is_alphanumeric() && w[1] == '_' && w[2].is_alphanumeric());
    let camel = chars.windows(2).any(|w| w[0].is_lowercase() && w[1].is_uppercase());
    snake || camel
}

#[cfg(test)]
mod tests {
    use super::code_words;

    #[test]
    fn finds_identifiers_but_not_urls_hints_or_commands() {
        assert_eq!(code_words("revoked on Bybit (selfDelete), proved"), ["selfDelete"]);
        assert_eq!(code_words("outcome: wiped_locally — kept"), ["wiped_locally"]);
        assert_eq!(code_words("Revoked at Bybit: the key deleted itself through the API."), Vec::<&str>::new());
        let fine = "Delete BCQH…Z9Z9 at https://www.bybit.com/app/user/api-management?tab=api_key, \
                    then run `latchkey confirm-deleted 'grid_bot'` or mail ops_team@example.com.";
        assert_eq!(code_words(fine), Vec::<&str>::new());
    }
}
