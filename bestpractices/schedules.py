from madansara.periodic import cron, every

SCHEDULES = {
    "bestpractices.learn": cron(
        task="bestpractices.tasks.practices_learn_task",
        hour="3",
        minute="10",
        description="Learn what converts from settled campaign sends (adjusted effects, versioned practices)",
    ),
    "bestpractices.learn-reviewer-edits": cron(
        task="bestpractices.tasks.draft_edits_learn_task",
        hour="3",
        minute="40",
        description="Learn what reviewers change in AI drafts; the draft composer reads it as guidance",
    ),
    "bestpractices.review-experiments": every(
        hours=1,
        task="bestpractices.tasks.experiments_review_task",
        description="Confirm or retire practices whose experiments have a winner",
    ),
    "bestpractices.schedule-tests": cron(
        task="bestpractices.tasks.tests_schedule_task",
        day_of_week="1",
        hour="6",
        minute="0",
        description="Propose this week's tests by expected value within the weekly budget",
    ),
}
