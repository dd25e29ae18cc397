//! The password-family messages of a login, read without trusting their bytes.
//!
//! pgwire hands a startup handler the body of a password-family message undecoded and decodes
//! it when asked as what the handshake expects. Its `SASLInitialResponse` decoding reads a
//! length field the body may not have and takes as many bytes as that field says, whatever is
//! there: a short or lying body panicked the connection's task. [`typed_initial_response`]
//! decodes it here, every length checked, so a malformed one is a protocol error for that
//! client ([`malformed`]). The other messages of the family (a SASL response, an MD5 answer)
//! are the rest of the body or a string, which pgwire reads without assumptions.

use bytes::{Buf, Bytes, BytesMut};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::{PasswordMessageFamily, SASLInitialResponse};
use pgwire::messages::PgWireFrontendMessage;

/// `message` with a raw password-family body decoded as a `SASLInitialResponse`: a mechanism
/// name (a C string), a length (`-1`: no data), and exactly that many bytes of data.
pub fn typed_initial_response(
    message: PgWireFrontendMessage,
) -> PgWireResult<PgWireFrontendMessage> {
    let PgWireFrontendMessage::PasswordMessageFamily(PasswordMessageFamily::Raw(body)) = message
    else {
        return Ok(message);
    };
    let initial = decode_initial_response(body)?;
    Ok(PgWireFrontendMessage::PasswordMessageFamily(
        PasswordMessageFamily::SASLInitialResponse(initial),
    ))
}

fn decode_initial_response(mut body: BytesMut) -> PgWireResult<SASLInitialResponse> {
    let Some(end) = body.iter().position(|b| *b == 0) else {
        return Err(malformed("SASLInitialResponse without a mechanism name"));
    };
    let name = body.split_to(end);
    body.advance(1);
    let mechanism = String::from_utf8(name.to_vec())
        .map_err(|_| malformed("SASLInitialResponse whose mechanism name is not UTF-8"))?;
    if body.remaining() < 4 {
        return Err(malformed("SASLInitialResponse without its data length"));
    }
    let len = body.get_i32();
    let data = match len {
        -1 if body.is_empty() => None,
        n if usize::try_from(n).ok() == Some(body.remaining()) => Some(Bytes::from(body)),
        n => {
            return Err(malformed(&format!(
                "SASLInitialResponse declaring {n} bytes of data and carrying {}",
                body.remaining()
            )))
        }
    };
    Ok(SASLInitialResponse::new(mechanism, data))
}

/// The error of a malformed authentication message: `FATAL 08P01` (protocol_violation),
/// saying what is wrong in a few words (never the message's bytes).
pub fn malformed(what: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        "08P01".to_string(),
        format!("invalid authentication message: {what}"),
    )))
}

/// pgwire's error for a message of the handshake it could not use, as a short protocol error
/// (its own messages quote the client's bytes, up to the whole message).
pub fn protocol_error(e: &PgWireError) -> PgWireError {
    let what = match e {
        PgWireError::InvalidScramMessage(_) => "a SCRAM message that does not parse or match",
        PgWireError::UnsupportedSASLAuthMethod(_) => "a SASL mechanism that was not offered",
        PgWireError::InvalidSASLState | PgWireError::NoAuthenticationInProgress => {
            "a message out of the handshake's order"
        }
        PgWireError::FailedToCoercePasswordMessage => "not the message the handshake expects",
        _ => "a message the handshake cannot use",
    };
    malformed(what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn raw(body: &[u8]) -> PgWireFrontendMessage {
        PgWireFrontendMessage::PasswordMessageFamily(PasswordMessageFamily::Raw(BytesMut::from(
            body,
        )))
    }

    #[test]
    fn a_well_formed_initial_response_is_decoded() {
        let mut body = b"SCRAM-SHA-256\0".to_vec();
        body.extend_from_slice(&5i32.to_be_bytes());
        body.extend_from_slice(b"n,,ab");
        let Ok(PgWireFrontendMessage::PasswordMessageFamily(
            PasswordMessageFamily::SASLInitialResponse(m),
        )) = typed_initial_response(raw(&body))
        else {
            panic!("not decoded");
        };
        assert_eq!(m.auth_method, "SCRAM-SHA-256");
        assert_eq!(m.data.as_deref(), Some(&b"n,,ab"[..]));
        let mut none = b"SCRAM-SHA-256\0".to_vec();
        none.extend_from_slice(&(-1i32).to_be_bytes());
        assert!(typed_initial_response(raw(&none)).is_ok());
    }

    #[test]
    fn what_panicked_pgwire_is_an_error() {
        for body in [
            &b"SCRAM-SHA-256\0"[..],
            b"SCRAM-SHA-256\0\0\0",
            b"SCRAM-SHA-256\0\x7f\xff\xff\xffabc",
            b"SCRAM-SHA-256\0\xff\xff\xff\xfe",
            b"no terminator",
            b"",
        ] {
            let err = typed_initial_response(raw(body)).expect_err("malformed");
            let info: ErrorInfo = err.into();
            assert_eq!(
                (info.severity.as_str(), info.code.as_str()),
                ("FATAL", "08P01")
            );
        }
    }

    proptest! {
        /// Any body is decoded or refused, never a panic; when decoded, re-encoding it gives
        /// the body back.
        #[test]
        fn any_body_is_decoded_or_refused(body in prop::collection::vec(any::<u8>(), 0..64),
                                          len in prop::option::of(-2i32..70)) {
            let mut body = body;
            if let Some(len) = len {
                // Half the time a name and a length field, so the data paths are reached.
                body.push(0);
                body.extend_from_slice(&len.to_be_bytes());
                body.extend(std::iter::repeat_n(b'd', len.clamp(0, 64) as usize));
            }
            if let Ok(PgWireFrontendMessage::PasswordMessageFamily(
                PasswordMessageFamily::SASLInitialResponse(m),
            )) = typed_initial_response(raw(&body))
            {
                let mut again = m.auth_method.as_bytes().to_vec();
                again.push(0);
                match &m.data {
                    Some(d) => {
                        again.extend_from_slice(&(d.len() as i32).to_be_bytes());
                        again.extend_from_slice(d);
                    }
                    None => again.extend_from_slice(&(-1i32).to_be_bytes()),
                }
                prop_assert_eq!(again, body);
            }
        }
    }
}
