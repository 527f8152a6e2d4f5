//! Small macros shared by the domain modules.

/// An enum stored in the database and sent over the API as fixed text:
/// `ALL`, `as_str`, `parse`, and `TryFrom<String>` for row decoding.
/// Attributes pass through: `text_enum!(#[derive(Default)] Kind { #[default] A => "a", … })`.
macro_rules! text_enum {
    ($(#[$attr:meta])* $name:ident { $($(#[$variant_attr:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
        $(#[$attr])*
        pub enum $name { $($(#[$variant_attr])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(value: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::parse(&value).ok_or_else(|| format!("unknown {} {value:?}", $crate::macros::type_words(stringify!($name))))
            }
        }
    };
}

/// A partial update: every field may be absent (left alone). A `required`
/// field, when present, must hold a value; an `optional` one may also be
/// `null`, which clears it (`Some(None)`).
///
/// ```text
/// patch!(
///     /// Changes to a company.
///     CompanyPatch {
///         name: required String,
///         domain: optional String,
///     }
/// );
/// ```
macro_rules! patch {
    ($(#[$attr:meta])* $name:ident { $($body:tt)* }) => {
        patch!(@munch [$(#[$attr])*] $name [] $($body)*);
    };
    (@munch [$($attr:tt)*] $name:ident [$($out:tt)*]) => {
        $($attr)*
        #[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
        #[serde(deny_unknown_fields)]
        pub struct $name { $($out)* }
    };
    (@munch [$($attr:tt)*] $name:ident [$($out:tt)*] $(#[$field_attr:meta])* $field:ident: required $ty:ty $(, $($rest:tt)*)?) => {
        patch!(@munch [$($attr)*] $name [$($out)*
            $(#[$field_attr])*
            #[serde(default, deserialize_with = "crate::platform::types::non_null", skip_serializing_if = "Option::is_none")]
            pub $field: Option<$ty>,
        ] $($($rest)*)?);
    };
    (@munch [$($attr:tt)*] $name:ident [$($out:tt)*] $(#[$field_attr:meta])* $field:ident: optional $ty:ty $(, $($rest:tt)*)?) => {
        patch!(@munch [$($attr)*] $name [$($out)*
            $(#[$field_attr])*
            #[serde(default, deserialize_with = "crate::platform::types::nullable", skip_serializing_if = "Option::is_none")]
            pub $field: Option<Option<$ty>>,
        ] $($($rest)*)?);
    };
}

/// `StageKind` → "stage kind", for messages about a value of that type.
pub fn type_words(name: &str) -> String {
    let mut words = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    words
}
