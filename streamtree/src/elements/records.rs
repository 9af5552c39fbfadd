//! Rows that `impl Serialize` as table rows, walked with serde's own [`Serializer`] trait
//! (no `serde_json`): a struct's fields become named cells in declaration order, a map's
//! entries cells named by their keys, a tuple's or sequence's items cells named `0`, `1`, …;
//! any other value is one cell named `value`. A cell is its value as text: numbers and
//! strings as written, `None` and `()` empty, unit variants by name, nested values in a
//! compact `[a, b]` / `{k: v}` form.

use std::fmt::{self, Display, Write as _};

use serde::ser::{self, Serialize, Serializer};

use crate::element::Str;

/// One row: its cells' names and values, in the order serde gave them.
#[derive(Default)]
pub(super) struct Row {
    pub(super) names: Vec<Str>,
    pub(super) values: Vec<Str>,
}

/// A `Serialize` impl's own error, or a map key that is not a plain value.
#[derive(Debug)]
pub(super) struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// `value` as one table row.
pub(super) fn row<T: Serialize + ?Sized>(value: &T) -> Result<Row, Error> {
    let mut row = Row::default();
    value.serialize(RowSer { row: &mut row })?;
    Ok(row)
}

/// `value` as one cell's text.
fn cell<T: Serialize + ?Sized>(value: &T) -> Result<Str, Error> {
    let mut out = String::new();
    value.serialize(CellSer { out: &mut out })?;
    Ok(Str::from(out))
}

struct RowSer<'a> {
    row: &'a mut Row,
}

impl RowSer<'_> {
    /// A value that is not a record: one cell named `value`.
    fn single<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.row.names.push(Str::from("value"));
        self.row.values.push(cell(value)?);
        Ok(())
    }
}

/// Row fields arriving one by one; `key` holds a map key until its value comes.
struct RowFields<'a> {
    row: &'a mut Row,
    key: Option<Str>,
}

impl RowFields<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, name: Str, value: &T) -> Result<(), Error> {
        self.row.names.push(name);
        self.row.values.push(cell(value)?);
        Ok(())
    }

    fn positional<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let name = Str::from(self.row.names.len());
        self.push(name, value)
    }
}

macro_rules! single {
    ($($method:ident($t:ty)),* $(,)?) => {$(
        fn $method(self, v: $t) -> Result<(), Error> {
            self.single(&v)
        }
    )*};
}

impl<'a> Serializer for RowSer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = RowFields<'a>;
    type SerializeTuple = RowFields<'a>;
    type SerializeTupleStruct = RowFields<'a>;
    type SerializeTupleVariant = RowFields<'a>;
    type SerializeMap = RowFields<'a>;
    type SerializeStruct = RowFields<'a>;
    type SerializeStructVariant = RowFields<'a>;

    single!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
    );

    fn serialize_none(self) -> Result<(), Error> {
        self.single(&())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.single(&())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.single(&())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        self.single(v)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<RowFields<'a>, Error> {
        Ok(RowFields {
            row: self.row,
            key: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<RowFields<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<RowFields<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<RowFields<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<RowFields<'a>, Error> {
        self.serialize_seq(len)
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<RowFields<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<RowFields<'a>, Error> {
        self.serialize_seq(Some(len))
    }
}

macro_rules! positional {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for RowFields<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.positional(value)
            }
            fn end(self) -> Result<(), Error> {
                Ok(())
            }
        }
    )*};
}

positional!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for RowFields<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(cell(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let name = self
            .key
            .take()
            .ok_or_else(|| Error("a map value came before its key".to_owned()))?;
        self.push(name, value)
    }
    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

impl ser::SerializeStruct for RowFields<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.push(Str::from(name), value)
    }
    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for RowFields<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.push(Str::from(name), value)
    }
    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

/// Writes one value as cell text.
struct CellSer<'a> {
    out: &'a mut String,
}

macro_rules! display {
    ($($method:ident($t:ty)),* $(,)?) => {$(
        fn $method(self, v: $t) -> Result<(), Error> {
            let _ = write!(self.out, "{v}");
            Ok(())
        }
    )*};
}

impl<'a> Serializer for CellSer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Nested<'a>;
    type SerializeTuple = Nested<'a>;
    type SerializeTupleStruct = Nested<'a>;
    type SerializeTupleVariant = Nested<'a>;
    type SerializeMap = Nested<'a>;
    type SerializeStruct = Nested<'a>;
    type SerializeStructVariant = Nested<'a>;

    display!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
    );

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let _ = write!(self.out, "{v:?}");
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Error> {
        self.out.push_str(v);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let _ = write!(self.out, "{variant}(");
        value.serialize(CellSer {
            out: &mut *self.out,
        })?;
        self.out.push(')');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Nested<'a>, Error> {
        Ok(Nested::open(self.out, '[', ']'))
    }
    fn serialize_tuple(self, _: usize) -> Result<Nested<'a>, Error> {
        Ok(Nested::open(self.out, '(', ')'))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Nested<'a>, Error> {
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Nested<'a>, Error> {
        self.out.push_str(variant);
        self.serialize_tuple(len)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Nested<'a>, Error> {
        Ok(Nested::open(self.out, '{', '}'))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Nested<'a>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Nested<'a>, Error> {
        self.out.push_str(variant);
        self.serialize_map(Some(len))
    }
}

/// A nested value inside a cell: items separated by `, `, map entries as `k: v`.
struct Nested<'a> {
    out: &'a mut String,
    first: bool,
    close: char,
}

impl<'a> Nested<'a> {
    fn open(out: &'a mut String, open: char, close: char) -> Nested<'a> {
        out.push(open);
        Nested {
            out,
            first: true,
            close,
        }
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push_str(", ");
        }
        self.first = false;
        value.serialize(CellSer {
            out: &mut *self.out,
        })
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        self.item(name)?;
        self.out.push_str(": ");
        value.serialize(CellSer {
            out: &mut *self.out,
        })
    }

    fn close(self) -> Result<(), Error> {
        self.out.push(self.close);
        Ok(())
    }
}

macro_rules! nested_items {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Nested<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.item(value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

nested_items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Nested<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.item(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.out.push_str(": ");
        value.serialize(CellSer {
            out: &mut *self.out,
        })
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeStruct for Nested<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(name, value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Nested<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(name, value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}
