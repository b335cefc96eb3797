from django.apps import AppConfig


class McpServerConfig(AppConfig):
    """The MCP server: our tools, jobs and library for AI assistants (streamable HTTP at
    /mcp, stdio with `manage.py mcp`)."""

    name = "apps.mcpserver"
    label = "mcpserver"
