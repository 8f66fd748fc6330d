//! Mutations of principals: creation, grants, tokens, disabling.

use super::*;
use crate::query::parse_org_unit;
use crate::types::*;
use async_graphql::{Object, SimpleObject};

/// Writes to principals, their grants and tokens.
#[derive(Default)]
pub struct PrincipalMutations;

#[Object]
impl PrincipalMutations {
    /// Create a principal, optionally with a first grant (admin).
    async fn create_principal(
        &self,
        ctx: &Context<'_>,
        input: CreatePrincipalInput,
    ) -> async_graphql::Result<PrincipalPayload> {
        writer(ctx)?;
        let id = principal_id(&input.id)?;
        let mut last = principal_write(
            ctx,
            Command::CreatePrincipal {
                principal: id.clone(),
                name: text("name", &input.name)?,
            },
            &id,
        )
        .await?;
        if let Some(role) = input.role {
            let grant = domain::Grant {
                role: role.into(),
                scope: input.org_unit.as_ref().map(parse_org_unit).transpose()?,
            };
            last = principal_write(
                ctx,
                Command::GrantRole {
                    principal: id.clone(),
                    grant,
                },
                &id,
            )
            .await?;
        }
        Ok(last)
    }

    /// Grant a role over an org unit's subtree (none: everywhere) (admin over that subtree).
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        input: GrantInput,
    ) -> async_graphql::Result<PrincipalPayload> {
        change_grant(ctx, input, true).await
    }

    /// Take a grant back (admin over that subtree).
    async fn revoke_grant(
        &self,
        ctx: &Context<'_>,
        input: GrantInput,
    ) -> async_graphql::Result<PrincipalPayload> {
        change_grant(ctx, input, false).await
    }

    /// Issue a bearer token to a principal; the token is shown here only (admin).
    async fn issue_token(
        &self,
        ctx: &Context<'_>,
        principal: ID,
        expires_in_days: Option<u32>,
    ) -> async_graphql::Result<TokenPayload> {
        let caller = writer(ctx)?;
        let id = principal_id(&principal)?;
        let expires_at = expires_in_days
            .map(|d| domain::principal::token_expiry(chrono::Utc::now(), d))
            .transpose()
            .map_err(|e| ApiError::invalid(&e))?;
        let app = ctx.data_unchecked::<App>();
        let (token_id, token) = app
            .service
            .issue_token(&Caller::Principal(caller.principal.clone()), id, expires_at)
            .await
            .map_err(ApiError::from)?;
        Ok(TokenPayload {
            token_id: ID(token_id.0.to_string()),
            token,
            expires_at,
        })
    }

    /// Revoke a token; it stops working at once, on open subscriptions too (admin).
    async fn revoke_token(
        &self,
        ctx: &Context<'_>,
        principal: ID,
        token_id: ID,
    ) -> async_graphql::Result<PrincipalPayload> {
        writer(ctx)?;
        let id = principal_id(&principal)?;
        let token = domain::TokenId(uuid("tokenId", &token_id)?);
        principal_write(
            ctx,
            Command::RevokeToken {
                principal: id.clone(),
                token,
            },
            &id,
        )
        .await
    }

    /// Disable a principal: none of its tokens works any more (admin).
    async fn disable_principal(
        &self,
        ctx: &Context<'_>,
        principal: ID,
        reason: String,
    ) -> async_graphql::Result<PrincipalPayload> {
        writer(ctx)?;
        let id = principal_id(&principal)?;
        principal_write(
            ctx,
            Command::DisablePrincipal {
                principal: id.clone(),
                reason: self::reason(&reason)?,
            },
            &id,
        )
        .await
    }
}

async fn change_grant(
    ctx: &Context<'_>,
    input: GrantInput,
    grant_it: bool,
) -> async_graphql::Result<PrincipalPayload> {
    writer(ctx)?;
    let principal = principal_id(&input.principal)?;
    let grant = domain::Grant {
        role: input.role.into(),
        scope: input.org_unit.as_ref().map(parse_org_unit).transpose()?,
    };
    let command = if grant_it {
        Command::GrantRole {
            principal: principal.clone(),
            grant,
        }
    } else {
        Command::RevokeGrant {
            principal: principal.clone(),
            grant,
        }
    };
    principal_write(ctx, command, &principal).await
}

/// Runs a command on a principal and reads the principal back.
async fn principal_write(
    ctx: &Context<'_>,
    command: Command,
    id: &domain::PrincipalId,
) -> async_graphql::Result<PrincipalPayload> {
    let subject = Subject {
        en: "principal",
        vi: "người dùng",
        id: id.to_string(),
    };
    let (principal, written) = write(ctx, command, WriteOptions::default(), subject, |app| {
        Ok(app
            .service
            .with_state(|s| s.principals.get(id).map(|p| Principal::from_state(id, p)))?)
    })
    .await?;
    Ok(PrincipalPayload {
        principal,
        position: written.position,
    })
}

fn principal_id(id: &ID) -> ApiResult<domain::PrincipalId> {
    domain::PrincipalId::parse(id.as_str()).map_err(|e| ApiError::invalid(&e))
}

/// Create a principal.
#[derive(InputObject)]
pub struct CreatePrincipalInput {
    /// Its id (`a-z`, `0-9`, `.`, `_`, `-`).
    pub id: ID,
    /// Display name.
    pub name: String,
    /// A first grant's role.
    pub role: Option<Role>,
    /// The first grant's subtree (none: everywhere).
    pub org_unit: Option<ID>,
}

/// A grant to give or take back.
#[derive(InputObject)]
pub struct GrantInput {
    /// The principal.
    pub principal: ID,
    /// The role.
    pub role: Role,
    /// The subtree (none: everywhere).
    pub org_unit: Option<ID>,
}

/// The result of a change to a principal.
#[derive(SimpleObject)]
pub struct PrincipalPayload {
    /// The principal after the change.
    pub principal: Principal,
    /// Log position of the change.
    pub position: u64,
}

/// A token, shown once.
#[derive(SimpleObject)]
pub struct TokenPayload {
    /// Its id (for revocation).
    pub token_id: ID,
    /// The token: send it as `Authorization: Bearer <token>`. It is not stored and cannot be shown again.
    pub token: String,
    /// When it stops working.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}
