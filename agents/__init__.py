"""The integration layer for outside agents: MCP server, webhook event emitters. It sits above the
domain apps (it imports them; none imports it)."""
