<#
.SYNOPSIS
    Sets up the Siaga agent on a Windows meeting PC: a task at startup (SYSTEM) and one at logon.

.DESCRIPTION
    Why two tasks (docs/agent.md, "Start on Windows"): a PC that boots after a power cut sits at
    the login screen, and an agent that starts at logon would leave the Pi blind and the PC
    without a clean shutdown until someone logs on. So:

      "Siaga\Agent"   at startup, as SYSTEM: `siaga agent --no-banner`: telemetry, commands,
                      the OBS wrap-up, wrapup_command and the shutdown. No desktop, so no banner.
      "Siaga\Banner"  at the logon of any user, in that user's session: `siaga agent
                      --banner-only`: shows the banners; never acks or acts.
      "Siaga\Zoom stop recording" (only with -ZoomUser): presses Alt+R in that user's Zoom
                      meeting window when started; the SYSTEM agent starts it as its
                      wrapup_command (a SYSTEM process cannot press keys on a user's desktop).

    SYSTEM runs the Python and the agent.toml in -InstallDir, so the folder is locked down:
    Administrators and SYSTEM may change it, Users may only read it (otherwise any user could
    put a program of their choice into shutdown_command and have SYSTEM run it).

    Run it again at any time: it replaces the tasks and resets the folder's permissions
    (idempotent). -WhatIf shows what it would do and changes nothing. -Uninstall removes the tasks.

    UNTESTED ON REAL WINDOWS: written from Microsoft's documentation of the ScheduledTasks
    module and icacls; the agent's --no-banner/--banner-only split is tested on Linux only.

.EXAMPLE
    # As Administrator, after the venv and agent.toml are in place (docs/agent.md):
    powershell -ExecutionPolicy Bypass -File install-agent.ps1 -WhatIf
    powershell -ExecutionPolicy Bypass -File install-agent.ps1 -ZoomUser rapat
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    # Folder holding venv\ and agent.toml (and mqtt.password, obs.password).
    [string]$InstallDir = (Join-Path $env:ProgramData "Siaga"),
    # The meeting account whose Zoom the wrap-up stops with Alt+R; "" = no Zoom task.
    [string]$ZoomUser = "",
    # Remove the Siaga tasks (and the old per-user "Siaga agent" task) and stop.
    [switch]$Uninstall
)

Set-StrictMode -Version Latest
$ErrorActionPreference = "Stop"

$TaskPath = "\Siaga\"
# Well-known SIDs (as Task Scheduler itself writes them in a task's XML): names are localised
# ("Pengguna" on an Indonesian Windows), SIDs are not.
$SidSystem = "S-1-5-18"
$SidAdmins = "S-1-5-32-544"
$SidUsers = "S-1-5-32-545"

function Fail([string]$Message) {
    Write-Host "install-agent.ps1: $Message" -ForegroundColor Red
    exit 1
}

function Remove-SiagaTasks {
    foreach ($task in @(Get-ScheduledTask -TaskPath $TaskPath -ErrorAction SilentlyContinue)) {
        if ($PSCmdlet.ShouldProcess("$TaskPath$($task.TaskName)", "Unregister scheduled task")) {
            Unregister-ScheduledTask -TaskName $task.TaskName -TaskPath $TaskPath -Confirm:$false
        }
    }
    # The logon-only task of the first install instructions (docs/agent.md before v1.1).
    if (Get-ScheduledTask -TaskName "Siaga agent" -TaskPath "\" -ErrorAction SilentlyContinue) {
        if ($PSCmdlet.ShouldProcess("\Siaga agent", "Unregister the old logon-only task")) {
            Unregister-ScheduledTask -TaskName "Siaga agent" -TaskPath "\" -Confirm:$false
        }
    }
}

function New-SiagaSettings {
    # Never stopped for running on battery: Windows may see a USB-connected UPS as one, and the
    # default would stop the agent exactly during a power cut. Restarted if it ever exits.
    New-ScheduledTaskSettingsSet -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries `
        -StartWhenAvailable -ExecutionTimeLimit ([TimeSpan]::Zero) -MultipleInstances IgnoreNew `
        -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1)
}

function New-OneShotSettings {
    # The Zoom key press: never retried (a late Alt+R would START a recording), one minute at most.
    New-ScheduledTaskSettingsSet -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries `
        -ExecutionTimeLimit (New-TimeSpan -Minutes 1) -MultipleInstances IgnoreNew
}

function Register-SiagaTask([string]$Name, $Action, $Trigger, $Principal, [string]$What,
                            $Settings = (New-SiagaSettings)) {
    if ($PSCmdlet.ShouldProcess("$TaskPath$Name", "Register scheduled task ($What)")) {
        $params = @{ TaskName = $Name; TaskPath = $TaskPath; Action = $Action
                     Principal = $Principal; Settings = $Settings; Force = $true
                     Description = "Siaga: $What" }
        if ($null -ne $Trigger) { $params.Trigger = $Trigger }
        Register-ScheduledTask @params | Out-Null
    }
}

function Set-InstallDirAcl {
    # Inheritance off; full control for SYSTEM and Administrators, read and run for Users.
    if ($PSCmdlet.ShouldProcess($InstallDir, "Set permissions (Users: read only)")) {
        & icacls.exe $InstallDir /inheritance:r /grant:r "*${SidSystem}:(OI)(CI)F" `
            "*${SidAdmins}:(OI)(CI)F" "*${SidUsers}:(OI)(CI)RX" /T /C /Q | Out-Null
        if ($LASTEXITCODE -ne 0) { Fail "icacls could not set the permissions of $InstallDir" }
    }
}

# ---- checks -------------------------------------------------------------------------------
$principalNow = New-Object Security.Principal.WindowsPrincipal(
    [Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principalNow.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Fail "run it in a PowerShell opened as Administrator"
}
if ($Uninstall) {
    Remove-SiagaTasks
    Write-Host "Siaga tasks removed. $InstallDir is left as it is."
    exit 0
}
$pythonw = Join-Path $InstallDir "venv\Scripts\pythonw.exe"
$config = Join-Path $InstallDir "agent.toml"
if (-not (Test-Path $pythonw)) { Fail "$pythonw not found: create the venv first (docs/agent.md)" }
if (-not (Test-Path $config)) { Fail "$config not found: copy and edit firmware_config/agent.toml" }
& (Join-Path $InstallDir "venv\Scripts\python.exe") -c "import agent.main" 2>$null
if ($LASTEXITCODE -ne 0) { Fail "Siaga is not installed in $InstallDir\venv (pip install siaga)" }

# ---- folder, old tasks, new tasks ---------------------------------------------------------
Set-InstallDirAcl
Remove-SiagaTasks

$agentArgs = "-m siaga agent --no-banner -c `"$config`""
Register-SiagaTask -Name "Agent" -What "UPS telemetry, recording wrap-up and clean shutdown" `
    -Action (New-ScheduledTaskAction -Execute $pythonw -Argument $agentArgs -WorkingDirectory $InstallDir) `
    -Trigger (New-ScheduledTaskTrigger -AtStartup) `
    -Principal (New-ScheduledTaskPrincipal -UserId $SidSystem -LogonType ServiceAccount -RunLevel Highest)

$bannerArgs = "-m siaga agent --banner-only -c `"$config`""
Register-SiagaTask -Name "Banner" -What "power-cut banner on the desktop" `
    -Action (New-ScheduledTaskAction -Execute $pythonw -Argument $bannerArgs -WorkingDirectory $InstallDir) `
    -Trigger (New-ScheduledTaskTrigger -AtLogOn) `
    -Principal (New-ScheduledTaskPrincipal -GroupId $SidUsers -RunLevel Limited)

if ($ZoomUser) {
    $script = Join-Path $PSScriptRoot "zoom-stop-recording.ps1"
    if (-not (Test-Path $script)) { Fail "$script not found (it ships beside this script)" }
    $target = Join-Path $InstallDir "zoom-stop-recording.ps1"
    if ($PSCmdlet.ShouldProcess($target, "Copy the Zoom Alt+R script")) { Copy-Item $script $target -Force }
    $zoomArgs = "-NoProfile -ExecutionPolicy Bypass -WindowStyle Hidden -File `"$target`""
    Register-SiagaTask -Name "Zoom stop recording" -What "Alt+R in the Zoom meeting window" `
        -Action (New-ScheduledTaskAction -Execute "powershell.exe" -Argument $zoomArgs) -Trigger $null `
        -Settings (New-OneShotSettings) -Principal (New-ScheduledTaskPrincipal -UserId $ZoomUser -LogonType Interactive -RunLevel Limited)
    Write-Host 'In agent.toml set: wrapup_command = ["schtasks.exe", "/Run", "/TN", "\\Siaga\\Zoom stop recording"]'
}

if (-not $WhatIfPreference) {
    if ($PSCmdlet.ShouldProcess("$($TaskPath)Agent", "Start now")) {
        Start-ScheduledTask -TaskName "Agent" -TaskPath $TaskPath
    }
    Write-Host "Done. The agent runs now and at every startup; the banner starts at the next logon."
    Write-Host "Logs: $InstallDir\agent.log (agent), the banner's only if its user may write there."
}
