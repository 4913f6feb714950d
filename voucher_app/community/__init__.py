"""Community workers (社区工作者): registering residents without a smartphone and acting on their behalf."""
