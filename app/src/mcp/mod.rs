//! Agents as users: the operations an API key can call as MCP tools,
//! declared once in a [`registry`] (name, description, scope, read or
//! write, input schema) and served at `/mcp` over Streamable HTTP by
//! [`server`]. A tool is a thin caller of the same `ops` as the REST
//! handlers and server functions, through the same write guard.

pub mod registry;
pub mod server;
mod tools;
